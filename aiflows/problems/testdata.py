"""Collect the test cases of a package's `data/sample` and `data/secret`, nested groups included.

Each `X.in` pairs with `X.ans` in the same folder; the test is named by its path below `data/`
without the extension (`secret/group1/03`), and tests run in lexicographic order of that name.
Files split into `X.in.part00`, `X.in.part01`, ... (archives that cap file sizes) are joined into
the cache when every part is there. What is missing is reported, never silently dropped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from aiflows.problems._files import atomic_write, content_digest, default_cache_dir, read_yaml_mapping
from aiflows.problems.errors import ProblemError
from aiflows.problems.model import TestCase

__all__ = ["GroupInfo", "TestData", "collect_tests"]

_PART = re.compile(r"^(?P<stem>.+)\.(?P<ext>in|ans)\.part(?P<n>\d+)$")


def _stem_of(name: str) -> str:
    """`1.in`, `1.ans`, `1.in.part03` -> `1`."""
    m = _PART.match(name)
    return m["stem"] if m else name.rsplit(".", 1)[0]


class GroupInfo(BaseModel):
    """One folder of tests below `data/` (`sample`, `secret`, `secret/subtask1`)."""

    model_config = ConfigDict(frozen=True)

    tests: int = 0
    complete: bool = True  # False when a file of the group is missing
    score: float | None = None  # points of the group (testdata.yaml accept_score or range max)


class TestData(BaseModel):
    """The tests of one package and what the folder said about them."""

    model_config = ConfigDict(frozen=True)

    tests: list[TestCase] = Field(default_factory=list)
    groups: dict[str, GroupInfo] = Field(default_factory=dict)
    missing_files: list[str] = Field(default_factory=list)  # relative to the package root
    interaction_samples: list[Path] = Field(default_factory=list)  # data/sample/*.interaction
    unanswered: list[str] = Field(default_factory=list)  # interactive tests with no .ans
    followed_links: list[str] = Field(default_factory=list)  # files that held a symlink's target path

    @property
    def has_secret(self) -> bool:
        return any(not t.is_sample for t in self.tests)


def collect_tests(
    root: Path,
    *,
    problem: str,
    interactive: bool,
    strict: bool = True,
    known_missing: Iterable[str] = (),
    cache_dir: Path | None = None,
) -> TestData:
    """Walk `root/data/{sample,secret}` and pair inputs with answers.

    Args:
        root: the package folder (its `data/` must exist).
        problem: the id used in error messages.
        interactive: an input without an answer is fine (the interactor needs no answer);
            it gets an empty answer file from the cache so every `TestCase` path exists.
        strict: raise on an input with no answer; when False (archives known to miss files)
            the test is left out and listed in `missing_files`, its group marked incomplete.
        known_missing: paths (relative to `root`) the archive says are absent, so a group
            that lost every file is still reported with the names of what it lost.
        cache_dir: where joined parts and the empty answer file are written.

    Raises:
        ProblemError: `strict` and an `.in` has no `.ans` (non-interactive problem).
    """
    data = root / "data"
    walker = _Walker(root, problem, interactive, strict, set(known_missing), cache_dir)
    for top in ("sample", "secret"):
        if (data / top).is_dir():
            walker.walk(data / top)
    return walker.result()


class _Walker:
    def __init__(
        self, root: Path, problem: str, interactive: bool, strict: bool, known_missing: set[str], cache_dir: Path | None
    ) -> None:
        self.root, self.problem, self.interactive, self.strict = root, problem, interactive, strict
        self.known_missing = known_missing
        self.cache_dir = cache_dir
        self.tests: list[TestCase] = []
        self.groups: dict[str, dict[str, Any]] = {}
        self.missing: list[str] = []
        self.interactions: list[Path] = []
        self.unanswered: list[str] = []
        self.followed: list[str] = []

    def walk(self, top: Path) -> None:
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True):
            dirnames.sort()
            self._folder(Path(dirpath), sorted(filenames))

    def _folder(self, folder: Path, names: list[str]) -> None:
        group = folder.relative_to(self.root / "data").as_posix()
        info: dict[str, Any] = {"tests": 0, "complete": True, "score": self._score(folder)}
        stems: set[str] = set()
        for name in names:
            if _PART.match(name) or name.endswith((".in", ".ans")):
                stems.add(_stem_of(name))
            elif name.endswith(".interaction") and group == "sample":
                self.interactions.append(folder / name)
        rel_folder = folder.relative_to(self.root).as_posix()
        for known in sorted(self.known_missing):
            head, _, tail = known.rpartition("/")
            if head == rel_folder and _stem_of(tail) not in stems:
                self.missing.append(known)
                info["complete"] = False
        for stem in sorted(stems):
            inp = self._resolve(folder, stem, "in")
            ans = self._resolve(folder, stem, "ans")
            rel = f"{rel_folder}/{stem}"
            if inp is None:
                self.missing.append(f"{rel}.in")
                info["complete"] = False
                continue
            if ans is None:
                if self.interactive:
                    ans = self._empty_answer()
                    self.unanswered.append(f"{group}/{stem}")
                elif self.strict:
                    raise ProblemError(
                        f"input {stem}.in has no answer file {stem}.ans",
                        problem=self.problem,
                        path=folder / f"{stem}.in",
                    )
                else:
                    self.missing.append(f"{rel}.ans")
                    info["complete"] = False
                    continue
            self.tests.append(
                TestCase(
                    name=f"{group}/{stem}",
                    input_path=inp,
                    answer_path=ans,
                    is_sample=group.split("/", 1)[0] == "sample",
                )
            )
            info["tests"] += 1
        if info["tests"] or not info["complete"] or group in ("sample", "secret"):
            self.groups[group] = info

    def _resolve(self, folder: Path, stem: str, ext: str) -> Path | None:
        whole = folder / f"{stem}.{ext}"
        if whole.is_file():
            target = self._link_stub(whole, ext)
            if target is not None:
                self.followed.append(whole.relative_to(self.root).as_posix())
                return target
            return whole
        numbered = sorted(
            (int(m["n"]), p)
            for p in folder.iterdir()
            if (m := _PART.match(p.name)) and m["stem"] == stem and m["ext"] == ext
        )
        if not numbered:
            return None
        numbers, parts = [n for n, _ in numbered], [p for _, p in numbered]
        rel_parts = {p.relative_to(self.root).as_posix() for p in parts}
        known_gap = any(
            m.startswith(f"{folder.relative_to(self.root).as_posix()}/{stem}.{ext}.part") and m not in rel_parts
            for m in self.known_missing
        )
        if numbers != list(range(len(numbers))) or known_gap:
            for p in parts:
                self.missing.append(p.relative_to(self.root).as_posix() + " (other parts missing)")
            return None
        joined = b"".join(p.read_bytes() for p in parts)
        target = self._cache() / "joined" / content_digest(str(folder.resolve()), stem) / f"{stem}.{ext}"
        atomic_write(target, joined)
        return target

    def _link_stub(self, path: Path, ext: str) -> Path | None:
        """The file a checked-out symlink stands for, when `path` is one.

        Archives copied without symlink support hold the link's target as the file's text
        (`../subtask1/1.in`). Such a file is followed when its whole content is a relative path
        to another `.in`/`.ans` file inside the package.
        """
        if path.stat().st_size > 255:
            return None
        text = path.read_bytes()
        if b"\n" in text or not text.endswith(f".{ext}".encode()):
            return None
        try:
            target = (path.parent / text.decode()).resolve()
        except (UnicodeDecodeError, OSError, ValueError):
            return None
        root = self.root.resolve()
        if target != path.resolve() and target.is_file() and root in target.parents:
            return Path(os.path.normpath(path.parent / text.decode()))
        return None

    def _empty_answer(self) -> Path:
        path = self._cache() / "empty.ans"
        atomic_write(path, b"")
        return path

    def _cache(self) -> Path:
        return (self.cache_dir if self.cache_dir is not None else default_cache_dir()).absolute()

    def _score(self, folder: Path) -> float | None:
        for name in ("testdata.yaml", "test_group.yaml"):
            path = folder / name
            if not path.is_file():
                continue
            data = read_yaml_mapping(path, problem=self.problem)
            if isinstance(data.get("accept_score"), (int, float)):
                return float(data["accept_score"])
            scoring = data.get("scoring")
            if isinstance(scoring, dict) and isinstance(scoring.get("score"), (int, float)):
                return float(scoring["score"])
        return None

    def result(self) -> TestData:
        self.tests.sort(key=lambda t: t.name)
        return TestData(
            tests=self.tests,
            groups={k: GroupInfo(**v) for k, v in sorted(self.groups.items())},
            missing_files=sorted(set(self.missing)),
            interaction_samples=sorted(self.interactions),
            unanswered=self.unanswered,
            followed_links=self.followed,
        )
