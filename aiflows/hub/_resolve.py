"""Choosing one version of every flow a set of references needs.

The resolver works like pip's classic one, which is enough for flow graphs of tens of nodes:
walk the graph from the roots, give each flow the newest version that meets every constraint
placed on it by the flows currently chosen (preferring the locked one), and repeat until nothing
changes. When no version fits, `ResolutionError` lists who requires what and which versions exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ._errors import ResolutionError
from ._manifest import Manifest
from ._refs import Reference, RefKind
from ._repos import Repo

__all__ = ["Candidate", "Resolver"]

_MAX_ROUNDS = 200
_ROOT = "you asked for"


@dataclass(frozen=True)
class Candidate:
    """One version of a flow in one repo."""

    name: str
    version: Version | None  # None for a commit or branch, until its manifest is read
    rev: str
    repo: Repo = field(compare=False)
    source: str = ""


@dataclass
class _Need:
    requirer: str
    spec: SpecifierSet


class Resolver:
    """Resolve references with `find(name)` (candidates, newest first) and `pin(ref)` (commit/branch refs).

    `warm(names)`, if given, hears of dependencies as soon as a manifest names them, so their
    sources can be fetched in the background while resolution goes on.
    """

    def __init__(
        self,
        find: Callable[[str], list[Candidate]],
        pin: Callable[[Reference], Candidate],
        aiflows_version: str,
        prefer: dict[str, str] | None = None,
        warm: Callable[[list[str]], None] | None = None,
    ) -> None:
        self._find = find
        self._warm = warm
        self._pin = pin
        self._aiflows = aiflows_version
        self._prefer = prefer or {}
        self._manifests: dict[tuple[str, str], Manifest] = {}

    def manifest(self, cand: Candidate) -> Manifest:
        """The candidate's manifest, checked against the name and version it was found under."""
        key = (cand.repo.location, cand.rev)
        if key not in self._manifests:
            m = cand.repo.manifest(cand.rev)
            where = f"{cand.repo.location}@{cand.rev[:12] or cand.version}"
            if m.name != cand.name:
                raise ResolutionError(
                    f"{where}: flow.yaml names the flow {m.name!r}, but it was found as {cand.name!r}"
                )
            if cand.version is not None and m.parsed_version != cand.version:
                raise ResolutionError(
                    f"{where}: tag v{cand.version} holds flow.yaml version {m.version}; "
                    f"a version tag must match the manifest"
                )
            self._manifests[key] = m
            if self._warm is not None and m.dependencies:
                self._warm(sorted(m.dependencies))  # let the caller start fetching what comes next
        return self._manifests[key]

    def resolve(self, roots: list[Reference]) -> dict[str, Candidate]:
        fixed: dict[str, Candidate] = {}
        for ref in roots:
            if ref.kind in (RefKind.COMMIT, RefKind.NAMED):
                cand = self._pin(ref)
                version = self.manifest(cand).parsed_version
                fixed[ref.name] = Candidate(ref.name, version, cand.rev, cand.repo, cand.source)
        chosen: dict[str, Candidate] = dict(fixed)
        for _ in range(_MAX_ROUNDS):
            needs = self._needs(roots, chosen)
            changed = False
            for name, wants in needs.items():
                current = chosen.get(name)
                if current is not None and _fits(current.version, wants):
                    continue
                if name in fixed:
                    raise ResolutionError(self._explain(name, wants, [fixed[name]], pinned=True))
                chosen[name] = self._choose(name, wants)
                changed = True
                break  # the graph changed: recompute who needs what
            if not changed:
                return {name: chosen[name] for name in needs}
        raise ResolutionError(
            "dependency resolution did not settle; constraints keep changing: " + ", ".join(sorted(chosen))
        )

    def _needs(self, roots: list[Reference], chosen: dict[str, Candidate]) -> dict[str, list[_Need]]:
        """Constraints on each flow reachable from the roots through the current choices."""
        needs: dict[str, list[_Need]] = {}
        queue: list[str] = []
        for ref in roots:
            needs.setdefault(ref.name, []).append(_Need(f"{_ROOT} {ref}", ref.spec))
            queue.append(ref.name)
        seen: set[str] = set()
        while queue:
            name = queue.pop(0)
            if name in seen or name not in chosen:
                continue
            seen.add(name)
            cand = chosen[name]
            for dep, spec in self.manifest(cand).dependencies.items():
                why = f"{name} {cand.version} requires {dep}{spec}"
                needs.setdefault(dep, []).append(_Need(why, SpecifierSet(spec)))
                queue.append(dep)
        return needs

    def _choose(self, name: str, wants: list[_Need]) -> Candidate:
        found = self._find(name)
        fitting = [c for c in found if _fits(c.version, wants)]
        preferred = self._prefer.get(name)
        fitting.sort(key=lambda c: (str(c.version) != preferred, -_rank(found, c)))
        for cand in fitting:
            if self.manifest(cand).supports_aiflows(self._aiflows):
                return cand
        raise ResolutionError(self._explain(name, wants, found))

    def _explain(self, name: str, wants: list[_Need], found: list[Candidate], pinned: bool = False) -> str:
        if not found and not pinned and all(w.requirer.startswith(_ROOT) for w in wants):
            # Asked for directly and found nowhere: one line (a typo, or a source not given).
            return (
                f"no flow {name} in any source: check the name, or say where it lives with "
                '--source (e.g. "git=https://host/{owner}/{name}.git" or a local folder)'
            )
        lines = [f"cannot choose a version of {name}:"]
        lines += [f"  - {w.requirer}" for w in wants]
        if pinned:
            lines.append(f"  but the revision you asked for is version {found[0].version}")
        elif not found:
            lines.append("  and no version of it was found in any source")
        else:
            avail = []
            for c in found:
                note = ""
                if _fits(c.version, wants):
                    m = self.manifest(c)
                    if not m.supports_aiflows(self._aiflows):
                        note = f" (requires aiflows {m.requires_aiflows}, this is aiflows {self._aiflows})"
                avail.append(f"{c.version}{note}")
            lines.append(f"  available: {', '.join(avail)}")
        return "\n".join(lines)


def _rank(found: list[Candidate], cand: Candidate) -> int:
    """Higher for newer: `found` is newest first."""
    return len(found) - found.index(cand)


def _fits(version: Version | None, wants: list[_Need]) -> bool:
    return version is not None and all(w.spec.contains(version, prereleases=True) for w in wants)
