"""Load ICPC/Kattis problem packages (problemtools, BAPCtools, DOMjudge exports) into `Problem`.

A package is a folder with `problem.yaml`, `data/sample` and `data/secret` (nested groups allowed),
a statement, optionally `output_validators/` or `output_validator/`, and `submissions/<verdict>/`.
A package whose data is only described by a generator (`generators/generators.yaml`, BAPCtools)
loads with the tests that are committed and says so in `metadata["has_secret_data"]`.

Example:
    >>> from aiflows.problems.kattis import load_package
    >>> p = load_package("../shared/data/cc/kattis-examples/different")  # doctest: +SKIP
    >>> p.validation, len(p.samples)  # doctest: +SKIP
    ('custom', 1)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiflows.problems._files import read_yaml_mapping
from aiflows.problems.config import PackageConfig, read_package_config
from aiflows.problems.errors import ProblemError, ProblemSet
from aiflows.problems.model import Problem
from aiflows.problems.statement import build_statement
from aiflows.problems.testdata import TestData, collect_tests

__all__ = ["LIMIT_KEYS", "PROBLEM_YAML_KEYS", "is_package", "load_package", "load_packages", "unknown_keys"]

log = logging.getLogger("aiflows.problems")

# problem.yaml's keys in the legacy, 2023-07 and 2025-09 formats (and BAPCtools' own)
PROBLEM_YAML_KEYS = frozenset(
    {
        "problem_format_version", "type", "name", "uuid", "version", "credits", "source", "license",
        "rights_owner", "embargo_until", "limits", "keywords", "languages", "allow_file_writing",
        "constants", "author", "source_url", "validation", "validator_flags", "grading", "scoring",
        "output_validator_args", "input_validator_args", "time_limit",
    }
)  # fmt: skip
LIMIT_KEYS = frozenset(
    {
        "time_multiplier", "time_safety_margin", "time_multipliers", "time_limit", "time_resolution", "memory",
        "output", "code", "compilation_time", "compilation_memory", "validation_time", "validation_memory",
        "validation_output", "validation_passes",
    }
)  # fmt: skip


def unknown_keys(raw: dict[str, Any]) -> list[str]:
    """The keys of a parsed problem.yaml the format does not have (`limits.x` for those under limits)."""
    found = [str(k) for k in raw if str(k) not in PROBLEM_YAML_KEYS]
    limits = raw.get("limits")
    if isinstance(limits, dict):
        found += [f"limits.{k}" for k in limits if str(k) not in LIMIT_KEYS]
    return found


def is_package(path: Path) -> bool:
    """True when `path` is a problem package folder (it has a `problem.yaml`)."""
    return path.is_dir() and (path / "problem.yaml").is_file()


def load_package(
    path: str | Path,
    *,
    problem_id: str | None = None,
    source: str = "kattis",
    strict: bool = True,
    known_missing: Iterable[str] = (),
    default_time_limit: float | None = None,
    require_data: bool = True,
    repair_yaml: bool = False,
    cache_dir: Path | None = None,
) -> Problem:
    """Load one problem package.

    Args:
        path: the package folder.
        problem_id: the id to give the problem (default: the folder name).
        source: recorded in `Problem.source`.
        strict: an input without an answer is an error (see `collect_tests`); archives that are
            known to miss files load with `strict=False` and list what is missing.
        known_missing: files (relative to the package) the archive is known to lack.
        default_time_limit: used when the package states no time limit (contest `problems.yaml`).
        require_data: a package without `data/` is an error unless a generator explains it;
            False for archives whose interactive problems ship only the interactor.
        repair_yaml: accept a `problem.yaml` whose only fault is an unquoted `name: A: B`
            (machine conversions produce it); the repair is noted in `metadata["notes"]`.
        cache_dir: where derived files go (joined file parts, the empty answer of interactive tests).

    Raises:
        ProblemError: the folder does not exist or is not a package, `problem.yaml` is invalid,
            the validation mode is unknown, `data/` is missing with no generator to explain it,
            or an input has no answer.
    """
    root = Path(path).absolute()  # test paths must stay valid whatever the judge's working folder
    pid = problem_id or root.name
    if not root.exists():
        raise ProblemError("path does not exist", problem=pid, path=root)
    if not root.is_dir():
        raise ProblemError("a problem package must be a folder", problem=pid, path=root)
    config = read_package_config(root, problem=pid, default_time_limit=default_time_limit, repair_yaml=repair_yaml)
    generated = (root / "generators" / "generators.yaml").is_file()
    if (root / "data").is_dir():
        data = collect_tests(
            root,
            problem=pid,
            interactive=config.validation == "custom-interactive",
            strict=strict,
            known_missing=known_missing,
            cache_dir=cache_dir,
        )
    elif generated or not require_data:
        data = TestData()
    else:
        raise ProblemError(
            "no data/ folder (and no generators/generators.yaml that would create it)", problem=pid, path=root / "data"
        )
    statement, statement_file = build_statement(
        root,
        title=config.name,
        samples=[t for t in data.tests if t.is_sample],
        interactions=data.interaction_samples,
        problem=pid,
        interactive=config.validation == "custom-interactive",
        constants=config.constants,
    )
    return Problem(
        id=pid,
        title=config.name,
        statement=statement,
        kind="stdio",
        source=source,
        root=root,
        time_limit=config.time_limit,
        memory_limit_mb=config.memory_limit_mb,
        output_limit_mb=config.output_limit_mb,
        validation=config.validation,
        validator_flags=config.validator_flags,
        output_validator=config.output_validator,
        tests=data.tests,
        metadata=_package_metadata(root, config, data, statement_file, generated),
    )


def _package_metadata(
    root: Path, config: PackageConfig, data: TestData, statement_file: str | None, generated: bool
) -> dict[str, Any]:
    """The JSON-friendly facts about a package that the judge and reports may want."""
    meta: dict[str, Any] = {
        "format_version": config.format_version,
        "types": list(config.types),
        "time_limit_source": config.time_limit_source,
        "statement_file": statement_file,
        "has_secret_data": data.has_secret,
        "groups": {name: g.model_dump() for name, g in data.groups.items()},
    }
    if config.names:
        meta["names"] = dict(config.names)
    if config.source:
        meta["source_name"] = config.source
    if config.license:
        meta["license"] = config.license
    if config.time_multiplier is not None:
        meta["time_multiplier"] = config.time_multiplier
    if config.multi_pass:
        meta["multi_pass"] = True
        meta["validation_passes"] = config.validation_passes
    if config.scoring:
        meta["scoring"] = True
    if generated:
        meta["generated_data"] = True
    notes: list[str] = []
    if config.constants:
        meta["constants"] = dict(config.constants)
        notes.append("{{name}} constants from problem.yaml are substituted in the statement, validators and include/")
    if config.repaired_yaml:
        notes.append("problem.yaml was repaired: a value containing ': ' was quoted")
    unknown = _unknown_keys(root)
    if unknown:
        meta["unknown_keys"] = unknown
        notes.append(f"problem.yaml has keys the format does not know: {', '.join(unknown)}")
        log.warning("%s: unknown keys %s", root / "problem.yaml", ", ".join(unknown))
    if not data.has_secret:
        notes.append(
            "no secret test data is committed"
            + (" (it is produced by generators/generators.yaml)" if generated else "")
        )
    if data.missing_files:
        meta["missing_files"] = list(data.missing_files)
        incomplete = [g for g, info in data.groups.items() if not info.complete]
        meta["incomplete_groups"] = incomplete
        notes.append(f"{len(data.missing_files)} test file(s) missing; incomplete groups: {', '.join(incomplete)}")
    if data.interaction_samples:
        meta["interaction_samples"] = [p.relative_to(root).as_posix() for p in data.interaction_samples]
    if data.unanswered:
        meta["unanswered_tests"] = list(data.unanswered)
    if data.followed_links:
        meta["followed_links"] = list(data.followed_links)
        notes.append(f"{len(data.followed_links)} test file(s) held a symlink target path and were followed")
    if notes:
        meta["notes"] = notes
    return meta


def _unknown_keys(root: Path) -> list[str]:
    try:
        return unknown_keys(read_yaml_mapping(root / "problem.yaml"))
    except ProblemError:  # already parsed once by read_package_config (repaired YAML lands here)
        return []


def load_packages(
    folder: str | Path,
    *,
    limit: int | None = None,
    source: str = "kattis",
    cache_dir: Path | None = None,
) -> ProblemSet:
    """Load every package directly inside `folder`; broken ones go to `ProblemSet.errors`.

    A contest-level `problems.yaml` (BAPCtools) may give a `time_limit` per problem id; it is
    used for packages that state none themselves.

    Raises:
        ProblemError: `folder` does not exist or is not a folder.
    """
    base = Path(folder).absolute()
    if not base.is_dir():
        raise ProblemError("path does not exist" if not base.exists() else "expected a folder of packages", path=base)
    problems: list[Problem] = []
    errors: list[ProblemError] = []
    try:
        defaults = _contest_time_limits(base)
    except ProblemError as exc:  # the packages still load, with their own limits
        errors.append(exc)
        defaults = {}
    for child in sorted(p for p in base.iterdir() if p.is_dir() and (p / "problem.yaml").is_file()):
        if limit is not None and len(problems) >= limit:
            break
        try:
            problems.append(
                load_package(child, source=source, cache_dir=cache_dir, default_time_limit=defaults.get(child.name))
            )
        except ProblemError as exc:
            errors.append(exc)
    return ProblemSet(problems, errors=errors)


def _contest_time_limits(base: Path) -> dict[str, float]:
    """Per-problem time limits from a BAPCtools contest `problems.yaml` (a list of entries)."""
    import yaml

    path = base / "problems.yaml"
    if not path.is_file():
        return {}
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ProblemError(f"cannot read the contest's problem list: {exc}", path=path) from exc
    if not isinstance(entries, list):
        raise ProblemError("expected a list of problems with 'id' (and optional 'time_limit')", path=path)
    limits: dict[str, float] = {}
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            value = entry.get("time_limit")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                limits[entry["id"]] = float(value)
    return limits
