"""Time limits a package does not state: measured from its accepted submissions, as the format says.

The problem package format (legacy and 2023-07 alike) makes the limit the slowest accepted
submission's time times `ac_to_time_limit` (legacy `time_multiplier`) when problem.yaml gives
none. Measuring means running every accepted submission on every test, so it is done once per
package content and kept in a cache file under `$AIFLOWS_HOME/judge/time-limits/`, named by a
hash of the package's problem.yaml, test data and accepted submissions: a changed package is
measured again, an unchanged one never.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from aiflows.judge._languages import UnsupportedLanguage
from aiflows.judge._models import Judgement, Verdict
from aiflows.problems import list_submissions
from aiflows.problems.config import PackageConfig, read_package_config
from aiflows.problems.model import Problem
from aiflows.runtime.settings import aiflows_home

__all__ = ["MeasuredLimit", "TimeLimits", "package_hash", "round_limit", "wall_limit"]

MEASURE_LIMIT_S = 60.0  # CPU seconds an accepted submission may use while it is being measured
CACHE_VERSION = 1
# The wall-clock limit: a program pinned to one CPU turns CPU time into about as much wall
# time, so 1.5x the CPU limit leaves room for start-up and for other runs sharing the machine
# (and for a multi-threaded program that waits on its threads), and 0.5 s more absorbs the
# fixed cost of starting a run. A program that sleeps or blocks is stopped that soon after its
# CPU limit, instead of after twice it plus a second.
WALL_FACTOR = 1.5
WALL_EXTRA_S = 0.5

Run = Callable[[Problem, str | dict[str, str], str, float], Judgement]  # problem, code, language, cpu limit


def wall_limit(cpu_s: float, factor: float = WALL_FACTOR, extra_s: float = WALL_EXTRA_S) -> float:
    """The wall-clock limit for a CPU limit (see WALL_FACTOR for why these numbers)."""
    return cpu_s * factor + extra_s


class MeasuredLimit(BaseModel):
    """A computed time limit and what it was computed from."""

    time_limit: float
    slowest_s: float  # the slowest accepted submission's slowest test (CPU seconds)
    slowest: str  # which submission that was
    ac_to_time_limit: float
    time_limit_to_tle: float
    measured: list[str]  # the accepted submissions that ran (unsupported languages are left out)
    package_hash: str


def round_limit(exact: float, config: PackageConfig) -> float:
    """Round as the reference tools do: legacy packages as problemtools (to whole seconds, half
    up, at least 1); 2023-07 and later up to a multiple of `time_resolution`."""
    if config.time_resolution is None:
        return float(max(1, int(0.5 + exact)))
    step = config.time_resolution
    return max(step, math.ceil(exact / step - 1e-9) * step)


def package_hash(root: Path) -> str:
    """A hash of what decides the limit: problem.yaml, the test data, the accepted submissions."""
    h = hashlib.sha256()
    paths = [root / "problem.yaml"]
    for sub in ("data", "submissions/accepted"):
        folder = root / sub
        if folder.is_dir():
            paths += sorted(p for p in folder.rglob("*") if p.is_file())
    for path in paths:
        h.update(str(path.relative_to(root)).encode() + b"\0")
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        h.update(b"\1")
    return h.hexdigest()[:32]


class TimeLimits:
    """Computed limits, measured at most once per package content (in this process and on disk)."""

    def __init__(self, run: Run, cache_dir: Path | None = None) -> None:
        self._run = run
        self.cache_dir = cache_dir or aiflows_home() / "judge" / "time-limits"
        self._memo: dict[str, MeasuredLimit | None] = {}
        self._hashes: dict[Path, str] = {}
        self._margins: dict[Path, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.measurements = 0  # packages measured by running their submissions (not read from cache)

    @staticmethod
    def needs_measuring(problem: Problem) -> bool:
        """True when the package states no time limit (and is a package, with a problem.yaml)."""
        root = problem.root
        return (
            problem.metadata.get("time_limit_source") == "default"
            and root is not None
            and (root / "problem.yaml").is_file()
            and (root / "submissions" / "accepted").is_dir()
        )

    def get(self, problem: Problem) -> MeasuredLimit | None:
        """The computed limit, or None when no accepted submission could run (then the default holds)."""
        assert problem.root is not None
        key = self._hash(problem.root)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._memo:
                self._memo[key] = self._cached(key) or self._measure(problem, key)
            return self._memo[key]

    def tle_margin(self, problem: Problem) -> float:
        """The package's time_limit_to_tle (legacy time_safety_margin); 1.5, the 2023-07 default,
        for problems that are not packages."""
        root = problem.root
        if root is None or not (root / "problem.yaml").is_file():
            return 1.5
        with self._guard:
            known = self._margins.get(root)
        if known is None:
            known = read_package_config(root, problem=problem.id).time_limit_to_tle
            with self._guard:
                self._margins[root] = known
        return known

    def _hash(self, root: Path) -> str:
        """The package's hash, worked out once per Judge (hashing the data costs more than a test)."""
        with self._guard:
            known = self._hashes.get(root)
        if known is None:
            known = package_hash(root)
            with self._guard:
                self._hashes[root] = known
        return known

    def _cached(self, key: str) -> MeasuredLimit | None:
        path = self.cache_dir / f"{key}.json"
        try:
            raw = json.loads(path.read_text())
            if raw.get("version") == CACHE_VERSION:
                return MeasuredLimit.model_validate(raw["limit"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return None

    def _measure(self, problem: Problem, key: str) -> MeasuredLimit | None:
        assert problem.root is not None
        self.measurements += 1
        config = read_package_config(problem.root, problem=problem.id)
        slowest, who, measured = 0.0, "", []
        for sub in list_submissions(problem.root, folders={"accepted"}):
            code: str | dict[str, str] = (
                sub.files[0].read_text() if len(sub.files) == 1 else {f.name: f.read_text() for f in sub.files}
            )
            try:
                judgement = self._run(problem, code, sub.language, MEASURE_LIMIT_S)
            except (UnsupportedLanguage, OSError, UnicodeDecodeError):
                continue
            if judgement.verdict != Verdict.AC:  # a broken accepted submission does not set the limit
                continue
            measured.append(sub.name)
            if judgement.max_time_s >= slowest:
                slowest, who = judgement.max_time_s, sub.name
        if not measured:
            return None
        limit = MeasuredLimit(
            time_limit=round_limit(slowest * config.ac_to_time_limit, config),
            slowest_s=slowest,
            slowest=who,
            ac_to_time_limit=config.ac_to_time_limit,
            time_limit_to_tle=config.time_limit_to_tle,
            measured=measured,
            package_hash=key,
        )
        self._store(key, limit)
        return limit

    def _store(self, key: str, limit: MeasuredLimit) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_dir / f"{key}.json.tmp{os.getpid()}"
            tmp.write_text(json.dumps({"version": CACHE_VERSION, "limit": limit.model_dump()}, indent=1))
            tmp.replace(self.cache_dir / f"{key}.json")
        except OSError:  # a read-only home: measured again next time, judged the same
            pass
