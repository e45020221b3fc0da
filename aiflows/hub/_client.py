"""The hub client: pull, sync, load and override, for one project.

A `Hub` reads its configuration once, when made: the project's `hub.yaml`, then
`$AIFLOWS_HOME/hub.yaml`, then the first-party catalogue. The lock file is `<project>/flows.lock`;
the cache and git mirrors live under `$AIFLOWS_HOME/hub/`.

    hub = Hub(Path("."))
    hub.pull(["ada/greeter@>=1,<2"])     # resolve, fetch, verify, write flows.lock; runs no code
    flow = hub.load("ada/greeter", config={"greeting": "Hi"})
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiflows.runtime.settings import aiflows_home

from ._cache import Cache, CacheRecord
from ._config import CONFIG_FILE, HubConfig, SourceSpec, update_config
from ._errors import HubError, IntegrityError, ResolutionError, TrustError
from ._files import content_hash
from ._loader import aiflows_version, build_flow, check_compatible, load_folder
from ._lock import LOCK_FILE, LockedFlow, Lockfile
from ._manifest import Manifest, load_manifest
from ._refs import Reference, RefKind, parse_reference
from ._repos import Repos, manifest_of
from ._resolve import Candidate, Resolver
from ._sources import FIRST_PARTY, Source, first_party_hash, first_party_index

__all__ = ["Hub", "find_project"]


def find_project(start: Path) -> Path:
    """The nearest folder at or above `start` holding `flows.lock` or `hub.yaml`; else `start`.

    So a script run from a project's subfolder still finds the project's lock and overrides.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / LOCK_FILE).is_file() or (folder / CONFIG_FILE).is_file():
            return folder
    return start


class Hub:
    """The hub as seen from one project folder."""

    def __init__(
        self,
        project: Path | None = None,
        *,
        home: Path | None = None,
        sources: Sequence[SourceSpec] = (),
        trust: Sequence[str] = (),
    ) -> None:
        self.project = (project or find_project(Path.cwd())).resolve()
        self.home = (home or aiflows_home()).expanduser().resolve()
        self.config = HubConfig.read(self.project / CONFIG_FILE).merged(HubConfig.read(self.home / CONFIG_FILE))
        self.cache = Cache(self.home / "hub" / "cache")
        self._repos = Repos(self.home / "hub" / "git", self.config.limits.resolved(), self.config.allowed_protocols)
        self._trusted_hashes = {*self.config.trust.hashes, *trust}
        specs = [*sources, *self.config.sources]
        self.sources = [Source(s, self._repos, trusted=s.label in self.config.trust.sources) for s in specs]
        if first_party_index().is_file():
            self.sources.append(
                Source(SourceSpec(name=FIRST_PARTY, index=str(first_party_index())), self._repos, trusted=True)
            )

    @property
    def lock_path(self) -> Path:
        return self.project / LOCK_FILE

    # -- finding -------------------------------------------------------------------------------

    def find(self, name: str) -> list[Candidate]:
        """Versions of `name` from the first source that has any, newest first."""
        misses = []
        for src in self.sources:
            repo = src.repo(name)
            if repo is None:
                continue
            try:
                versions = repo.versions()
            except (IntegrityError, ResolutionError):
                raise
            except HubError as exc:  # unreachable or absent here: try the next source
                misses.append(f"{src.label}: {exc}")
                continue
            if versions:
                return [Candidate(name, v, versions[v], repo, src.label) for v in sorted(versions, reverse=True)]
            misses.append(f"{src.label}: {repo.location} has no vX.Y.Z tags")
        if misses:
            raise HubError(f"{name}: not found in any source:\n  " + "\n  ".join(misses))
        return []

    def _prefetch(self, name: str) -> None:
        """Fetch `name`'s repo in the first source that places it; errors wait for `find` to report them."""
        for src in self.sources:
            repo = src.repo(name)
            if repo is not None:
                try:
                    repo.versions()
                except HubError:
                    pass
                return

    def pin(self, ref: Reference) -> Candidate:
        """The candidate a commit, tag or branch reference names."""
        misses = []
        for src in self.sources:
            repo = src.repo(ref.name)
            if repo is None:
                continue
            try:
                return Candidate(ref.name, None, repo.resolve(ref.rev), repo, src.label)
            except IntegrityError:
                raise
            except HubError as exc:
                misses.append(f"{src.label}: {exc}")
        raise HubError(f"{ref}: not found in any source" + ("".join(f"\n  {m}" for m in misses) or ""))

    # -- pull and sync ---------------------------------------------------------------------------

    def pull(self, references: Sequence[str], *, trust: bool = False) -> Lockfile:
        """Resolve `references` with everything already locked, fetch into the cache, write the lock.

        No code from the pulled flows runs. With `trust`, the content hashes of the flows named in
        `references` and of everything they depend on are added to the project's `hub.yaml` trust list.
        """
        lock = Lockfile.read(self.lock_path)
        requested = {parse_reference(r).name: r for r in lock.requested}
        asked = [parse_reference(r) for r in references]
        # A bare name re-pulls what the lock asks for: it never widens a locked range or revision
        # (`name@REV` asks for a new one).
        requested.update({ref.name: str(ref) for ref in asked if ref.rev or ref.name not in requested})
        roots = [parse_reference(r) for r in requested.values()]
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="hub-prefetch") as pool:

            def warm(names: list[str]) -> None:
                for n in names:
                    pool.submit(self._prefetch, n)

            resolver = Resolver(
                self.find, self.pin, aiflows_version(), prefer={n: f.version for n, f in lock.flows.items()}, warm=warm
            )
            chosen = resolver.resolve(roots)
        flows: dict[str, LockedFlow] = {}
        for name, cand in chosen.items():
            manifest = resolver.manifest(cand)
            if not manifest.supports_aiflows(aiflows_version()):
                raise ResolutionError(
                    f"{name} {manifest.version} requires aiflows {manifest.requires_aiflows}, "
                    f"but this is aiflows {aiflows_version()}"
                )
            old = lock.flows.get(name)
            if (
                old
                and old.location == cand.repo.location
                and old.commit == (cand.rev or None)
                and cand.rev
                and self.cache.has(old.hash)
                and self.cache.fetched_from(old.hash, cand.repo.kind, cand.repo.location, cand.rev)
            ):
                self.cache.verify(old.hash)
                digest = old.hash
            else:
                entries = cand.repo.entries(cand.rev)
                digest = content_hash(entries)
                record = CacheRecord(
                    name=name,
                    version=manifest.version,
                    hash=digest,
                    source=cand.source,
                    kind=cand.repo.kind,
                    location=cand.repo.location,
                    commit=cand.rev or None,
                )
                self.cache.put(entries, record)
            flows[name] = LockedFlow(
                version=manifest.version,
                hash=digest,
                kind=cand.repo.kind,
                location=cand.repo.location,
                commit=cand.rev or None,
                source=cand.source,
                dependencies=manifest.dependencies,
            )
        new = Lockfile(requested=sorted(requested.values()), flows=flows)
        new.write(self.lock_path)
        if trust:
            todo, seen = [ref.name for ref in asked], set()
            while todo:
                if (name := todo.pop()) not in seen:
                    seen.add(name)
                    todo.extend(flows[name].dependencies)
            for name in sorted(seen):
                self.trust_hash(flows[name].hash)
        return new

    def sync(self) -> Lockfile:
        """Fetch exactly what `flows.lock` pins; refuse any content whose hash differs.

        Flows are fetched in parallel: each is its own git process, so the wait overlaps.
        """
        if not self.lock_path.is_file():
            raise HubError(f"{self.lock_path}: no lock file; run `aiflows hub pull owner/name` first")
        lock = Lockfile.read(self.lock_path)
        with ThreadPoolExecutor(max_workers=min(8, len(lock.flows) or 1), thread_name_prefix="hub-sync") as pool:
            for done in [pool.submit(self._sync_one, name, locked) for name, locked in lock.flows.items()]:
                done.result()  # re-raises the first failure
        return lock

    def _sync_one(self, name: str, locked: LockedFlow) -> None:
        if self.cache.has(locked.hash):
            self._check_names(name, locked, load_manifest(self.cache.verify(locked.hash)))
            return
        repo = self._repos.get(locked.kind, locked.location)
        entries = repo.entries(locked.commit or "")
        digest = content_hash(entries)
        if digest != locked.hash:
            raise IntegrityError(
                f"{self.lock_path}: {name} {locked.version} from {locked.location}"
                f"{'@' + locked.commit if locked.commit else ''} now has content {digest}, "
                f"but the lock pins {locked.hash}"
            )
        self._check_names(name, locked, manifest_of(entries, f"{locked.location}@{locked.commit or ''}"))
        self.cache.put(
            entries,
            CacheRecord(
                name=name,
                version=locked.version,
                hash=digest,
                source=locked.source,
                kind=locked.kind,
                location=locked.location,
                commit=locked.commit,
            ),
        )

    def _check_names(self, name: str, locked: LockedFlow, manifest: Manifest) -> None:
        """The content a lock entry pins must be the flow and version its key and `version` name."""
        if manifest.name != name or manifest.version != locked.version:
            raise IntegrityError(
                f"{self.lock_path}: key 'flows.{name}' pins {name} {locked.version}, but the content "
                f"it pins ({locked.hash[:12]} from {locked.location}) is {manifest.name} "
                f"{manifest.version} by its flow.yaml; the lock was edited or forged"
            )

    # -- trust and overrides ---------------------------------------------------------------------

    def trust_hash(self, digest: str) -> None:
        """Trust one content hash, in the project's `hub.yaml`."""
        if digest not in self.config.trust.hashes:
            update_config(self.project / CONFIG_FILE, "trust.hashes", digest, digest)
        self._trusted_hashes.add(digest)

    def override(self, name: str, path: Path | None) -> None:
        """Point `name` at a working copy (or, with None, drop the override) in the project's `hub.yaml`."""
        parse_reference(name)
        if path is not None:
            manifest = load_manifest(path.resolve())
            if manifest.name != name:
                raise HubError(f"{path.resolve() / 'flow.yaml'}: key 'name' is {manifest.name!r}, expected {name!r}")
        update_config(self.project / CONFIG_FILE, "overrides", name, None if path is None else str(path.resolve()))

    def trust(self, name: str) -> dict[str, str]:
        """Trust the content hashes `flows.lock` pins for `name` and its dependencies; return them by name.

        Each cache entry is verified first, so what is trusted is what was read: this is the command
        a `TrustError` suggests, and it works offline, whatever sources pulled the flow.
        """
        lock = Lockfile.read(self.lock_path)
        if name not in lock.flows:
            raise HubError(f"{name} is not in {self.lock_path}; run `aiflows hub pull {name}` first")
        todo, seen = [name], set()
        while todo:
            if (current := todo.pop()) in seen:
                continue
            locked = lock.flows.get(current)
            if locked is None:
                raise HubError(f"{self.lock_path}: {current} is a dependency but is not locked; run `aiflows hub pull`")
            self._check_names(current, locked, load_manifest(self.cache.verify(locked.hash)))
            seen.add(current)
            todo.extend(locked.dependencies)
        trusted = {current: lock.flows[current].hash for current in sorted(seen)}
        for digest in trusted.values():
            self.trust_hash(digest)
        return trusted

    def is_trusted(self, name: str, locked: LockedFlow) -> bool:
        """Trust belongs to content: a trusted hash, the installed first-party flow's hash, or content this
        machine itself fetched from where a trusted source places the flow now.

        The lock's `source` label is never enough on its own: a lock is someone else's file.
        """
        if locked.hash in self._trusted_hashes or locked.hash == first_party_hash(name):
            return True
        for src in self.sources:
            if src.label == FIRST_PARTY or not src.trusted or src.label != locked.source:
                continue
            if src.place(name) == (locked.kind, locked.location) and self.cache.fetched_from(
                locked.hash, locked.kind, locked.location, locked.commit
            ):
                return True
        return False

    # -- loading ---------------------------------------------------------------------------------

    def load(self, reference: str, *, config: dict[str, Any] | None = None, name: str | None = None) -> Any:
        """Build the flow `reference` names, from its override or its verified, locked cache entry."""
        ref = parse_reference(reference)
        if override := self.config.overrides.get(ref.name):
            folder = Path(override)
            manifest = load_manifest(folder)
            if manifest.name != ref.name:
                raise HubError(
                    f"{folder / 'flow.yaml'}: key 'name' is {manifest.name!r}, but it overrides {ref.name!r}"
                )
            return load_folder(folder, config=config, name=name)
        locked = self._locked(ref)
        folder = self.cache.verify(locked.hash)
        manifest = load_manifest(folder)
        if manifest.name != ref.name or manifest.version != locked.version:
            raise IntegrityError(
                f"{self.lock_path}: {ref.name} is locked at {locked.version}, but its cache entry "
                f"{folder} holds {manifest.name} {manifest.version}"
            )
        if not self.is_trusted(ref.name, locked):
            command = shlex.join(["aiflows", "hub", "trust", ref.name, "--project", str(self.project)])
            raise TrustError(
                f"{ref.name} {locked.version} comes from {locked.location}, which is not a trusted source, and its "
                f"content hash {locked.hash} is not trusted. Read its code in {folder}, then trust it (and the "
                f"flows it depends on) with `{command}` or by adding the hash under 'trust: hashes:' in "
                f"{self.project / CONFIG_FILE}"
            )
        check_compatible(manifest, str(folder))
        return build_flow(folder, manifest, f"_aiflows_hub_{locked.hash[:16]}", config, name)

    def _locked(self, ref: Reference) -> LockedFlow:
        lock = Lockfile.read(self.lock_path)
        locked = lock.flows.get(ref.name)
        if locked is None:
            raise HubError(f"{ref.name} is not in {self.lock_path}; run `aiflows hub pull {ref}` first")
        pulled = {parse_reference(r).name: r for r in lock.requested}
        ok = (
            ref.kind is RefKind.ANY
            or (ref.kind is RefKind.CONSTRAINT and ref.spec.contains(locked.version, prereleases=True))
            or (ref.kind is RefKind.COMMIT and (locked.commit or "").startswith(ref.rev))
            or (ref.kind is RefKind.NAMED and pulled.get(ref.name) == str(ref))
        )
        if not ok:
            raise HubError(
                f"{self.lock_path}: {ref.name} is locked at {locked.version}"
                f"{' (' + locked.commit[:12] + ')' if locked.commit else ''}, which is not {ref}; "
                f"run `aiflows hub pull {ref}`"
            )
        return locked
