"""One entry point that recognises a problem source by looking at it and loads it.

"samples"                        the set shipped with aiflows
<folder with problem.yaml>       one ICPC/Kattis package
<folder of such folders>         a set of packages (kattis-examples, BAPCtools problems)
<Code Jam archive, year, round>  the Code Jam archive
<file>.jsonl[.gz]                cc_flows Codeforces records or HumanEval records (sniffed)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aiflows.problems._jsonl import first_record
from aiflows.problems.cc_flows import load_cc_flows
from aiflows.problems.codejam import is_codejam_archive, load_codejam
from aiflows.problems.errors import ProblemError, ProblemSet
from aiflows.problems.humaneval import is_humaneval_record, load_humaneval
from aiflows.problems.kattis import is_package, load_package, load_packages
from aiflows.problems.samples import load_samples

__all__ = ["detect_format", "load_problems"]

_EXPECTED = "a problem package, a folder of packages, a Code Jam archive, a .jsonl/.jsonl.gz file or 'samples'"


def detect_format(path_or_name: str | Path) -> str:
    """Name the format of a source: `samples`, `package`, `packages`, `codejam`, `cc_flows`, `humaneval`.

    Raises:
        ProblemError: the path does not exist or matches no known format (the message says why).
    """
    if str(path_or_name) == "samples":
        return "samples"
    path = Path(path_or_name)
    if not path.exists():
        raise ProblemError(f"path does not exist (expected {_EXPECTED})", path=path)
    if path.is_file():
        if not path.name.endswith((".jsonl", ".jsonl.gz")):
            raise ProblemError(f"unknown file type '{path.suffix}' (expected {_EXPECTED})", path=path)
        record = first_record(path)
        if record is None:
            raise ProblemError("no valid JSON record found", path=path)
        if is_humaneval_record(record):
            return "humaneval"
        if "problem_description" in record:
            return "cc_flows"
        if "plan" in record:
            raise ProblemError("this is a plans file: pass it as plans= when loading the problems", path=path)
        raise ProblemError(
            f"unknown record schema (keys: {', '.join(sorted(record)[:8])}); expected "
            "HumanEval (task_id, prompt, entry_point, test) or cc_flows (id, problem_description, ...)",
            path=path,
        )
    if is_package(path):
        return "package"
    if any(is_package(child) for child in path.iterdir()):
        return "packages"
    if is_codejam_archive(path):
        return "codejam"
    raise ProblemError(
        f"no problem.yaml here or one level below, and not a Code Jam archive (expected {_EXPECTED})", path=path
    )


def load_problems(
    path_or_name: str | Path,
    *,
    limit: int | None = None,
    cache_dir: Path | None = None,
    plans: Mapping[str, str] | str | Path | None = None,
    buckets: Mapping[str, list[str]] | str | Path | None = None,
) -> ProblemSet:
    """Load problems from any supported source, detecting its format.

    Args:
        path_or_name: a path, or the word `"samples"`.
        limit: load at most this many problems.
        cache_dir: where derived test files go (cc_flows tests, joined parts); default the aiflows cache.
        plans: editorial plans (mapping or plans jsonl) for cc_flows problems -> `metadata["plan"]`.
        buckets: evaluation buckets (mapping or json) for cc_flows problems -> `metadata["buckets"]`.

    Returns:
        A `ProblemSet` (a list of `Problem`) whose `errors` list the problems that did not load.

    Raises:
        ProblemError: the source does not exist or is not recognised, or a single package is broken.

    Example:
        >>> len(load_problems("samples", limit=2))
        2
    """
    kind = detect_format(path_or_name)
    path = Path(path_or_name)
    if kind == "samples":
        return load_samples(limit=limit, cache_dir=cache_dir)
    if kind == "package":
        problems = [load_package(path, cache_dir=cache_dir)] if limit != 0 else []
        return ProblemSet(problems)
    if kind == "packages":
        return load_packages(path, limit=limit, cache_dir=cache_dir)
    if kind == "codejam":
        return load_codejam(path, limit=limit, cache_dir=cache_dir)
    if kind == "humaneval":
        return load_humaneval(path, limit=limit)
    return load_cc_flows(path, limit=limit, plans=plans, buckets=buckets, cache_dir=cache_dir)
