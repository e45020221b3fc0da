"""Scoring problems: test groups, their grading settings and the score of a submission.

Every folder below `data/` is a test group (`sample`, `secret`, `secret/subtask1`). Its
settings come from `testdata.yaml` (legacy format) or `test_group.yaml` (2023-07), inherited by
the groups below it unless they override them:

- legacy: `on_reject` (break: stop the group at its first rejected test; continue), `accept_score`
  and `reject_score` (a test's score without `score.txt`), `range` ("min max" of the group's
  score), `grader_flags` (`sum`/`min` aggregation, `ignore_sample`, `first_error`/`worst_error`,
  `accept_if_any_accepted`), `output_validator_flags` (the validator's arguments in this group);
- 2023-07: `scoring: {score: N, aggregation: sum|min}` and `output_validator_args`.

A test scores what the output validator wrote to `score.txt`, else its group's accept score; a
group aggregates its tests and subgroups (in name order); the verdict is the first error (or the
worst, or AC when `accept_if_any_accepted` and one part is accepted), as problemtools grades.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from aiflows.judge._errors import PackageError
from aiflows.judge._models import TestResult, Verdict
from aiflows.problems.model import Problem, TestCase

__all__ = ["GroupResult", "GroupRules", "grade", "group_flags", "group_rules", "max_score"]

_SEVERITY = [Verdict.AC, Verdict.WA, Verdict.OLE, Verdict.TLE, Verdict.MLE, Verdict.RTE, Verdict.JE]


class GroupRules(BaseModel):
    """How one test group is graded (after inheritance)."""

    model_config = ConfigDict(frozen=True)

    on_reject: Literal["break", "continue"] = "break"
    accept_score: float = 1.0
    reject_score: float = 0.0
    range: tuple[float, float] | None = None
    aggregation: Literal["sum", "min"] = "sum"
    ignore_sample: bool = False
    verdict_rule: Literal["first_error", "worst_error"] = "first_error"
    accept_if_any_accepted: bool = False
    validator_flags: tuple[str, ...] | None = None  # None: problem.yaml's


class GroupResult(BaseModel):
    """A group's grade: its verdict, score and those of its parts."""

    name: str
    verdict: Verdict
    score: float
    parts: dict[str, float] = {}


def group_rules(problem: Problem) -> dict[str, GroupRules]:
    """The rules of every group folder below `data/` ("" for `data/` itself), inherited."""
    root = problem.root
    if root is None or not (root / "data").is_dir():
        return {"": GroupRules()}
    return dict(_group_rules(problem.id, root, (root / "data").stat().st_mtime_ns))


@functools.lru_cache(maxsize=256)
def _group_rules(problem_id: str, root: Path, _mtime: int) -> tuple[tuple[str, GroupRules], ...]:
    """Read once per package (and folder change): the judge asks on every judgement."""
    rules: dict[str, GroupRules] = {}
    data = root / "data"
    folders = [data, *sorted(p for p in data.rglob("*") if p.is_dir())]
    for folder in folders:
        name = "" if folder == data else folder.relative_to(data).as_posix()
        parent = rules.get(name.rpartition("/")[0], GroupRules()) if name else _generated_root(problem_id, root)
        rules[name] = _read(problem_id, folder, parent)
    return tuple(rules.items())


def _generated_root(problem_id: str, root: Path) -> GroupRules:
    """BAPCtools writes `data/test_group.yaml` from generators.yaml's top-level `test_group.yaml`
    (or `testdata.yaml`) key; a package whose data is committed without it still means it."""
    import yaml

    path = root / "generators" / "generators.yaml"
    if (root / "data" / "test_group.yaml").is_file() or (root / "data" / "testdata.yaml").is_file():
        return GroupRules()
    if not path.is_file():
        return GroupRules()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PackageError(problem_id, f"cannot read generators.yaml: {exc}", file=path) from None
    if not isinstance(raw, dict):
        return GroupRules()
    try:
        for key, parse in (("test_group.yaml", _modern), ("testdata.yaml", _legacy)):
            if isinstance(raw.get(key), dict):
                return GroupRules().model_copy(update=parse(raw[key]))
    except (TypeError, ValueError) as exc:
        raise PackageError(problem_id, f"generators.yaml: {exc}", file=path) from None
    return GroupRules()


def group_flags(problem: Problem) -> dict[str, tuple[str, ...]]:
    """Each group's output validator flags, for the groups that give their own."""
    return {g: r.validator_flags for g, r in group_rules(problem).items() if r.validator_flags is not None}


def _read(problem_id: str, folder: Path, parent: GroupRules) -> GroupRules:
    from aiflows.problems.errors import ProblemError
    from aiflows.problems.yaml_files import read_yaml_mapping

    update: dict[str, Any] = {}
    for file_name in ("testdata.yaml", "test_group.yaml"):
        path = folder / file_name
        if not path.is_file():
            continue
        try:
            raw = read_yaml_mapping(path)
        except ProblemError as exc:
            raise PackageError(problem_id, str(exc), file=path) from None
        try:
            update |= _legacy(raw) if file_name == "testdata.yaml" else _modern(raw)
        except (TypeError, ValueError) as exc:
            raise PackageError(problem_id, f"{file_name}: {exc}", file=path) from None
    return parent.model_copy(update=update) if update else parent


def _number(raw: dict[str, Any], key: str) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{key}: expected a number, found {value!r}")
    return float(value)


def _legacy(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "on_reject" in raw:
        if raw["on_reject"] not in ("break", "continue"):
            raise ValueError(f"on_reject: expected break or continue, found {raw['on_reject']!r}")
        out["on_reject"] = raw["on_reject"]
    for key in ("accept_score", "reject_score"):
        if key in raw:
            out[key] = _number(raw, key)
    if "range" in raw:
        parts = str(raw["range"]).split()
        if len(parts) != 2:
            raise ValueError(f"range: expected 'min max', found {raw['range']!r}")
        low, high = (float(p) for p in parts)
        out["range"] = (low, high)
    for flag in str(raw.get("grader_flags") or "").split():
        if flag in ("sum", "min"):
            out["aggregation"] = flag
        elif flag in ("first_error", "worst_error"):
            out["verdict_rule"] = flag
        elif flag == "ignore_sample":
            out["ignore_sample"] = True
        elif flag == "accept_if_any_accepted":
            out["accept_if_any_accepted"] = True
        else:
            raise ValueError(f"grader_flags: unknown flag {flag!r}")
    for key in ("output_validator_flags", "output_validator_args"):
        if key in raw:
            out["validator_flags"] = _args(raw[key], key)
    return out


def _modern(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    scoring = raw.get("scoring")
    if scoring is not None:
        if not isinstance(scoring, dict):
            raise ValueError(f"scoring: expected a mapping, found {scoring!r}")
        if "aggregation" in scoring:
            if scoring["aggregation"] not in ("sum", "min"):
                raise ValueError(f"scoring.aggregation: expected sum or min, found {scoring['aggregation']!r}")
            out["aggregation"] = scoring["aggregation"]
            out["on_reject"] = "break" if scoring["aggregation"] == "min" else "continue"
        if "score" in scoring and scoring["score"] != "unbounded":
            score = _number(scoring, "score")
            out["range"] = (0.0, score)
            out["accept_score"] = score
    if "output_validator_args" in raw:
        out["validator_flags"] = _args(raw["output_validator_args"], "output_validator_args")
    return out


def _args(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise ValueError(f"{key}: expected a string or a list of strings, found {value!r}")


def _group_of(test: TestCase) -> str:
    return test.name.rpartition("/")[0]


def grade(
    problem: Problem, tests: list[TestCase], run: Callable[[TestCase, GroupRules], TestResult]
) -> tuple[GroupResult, list[TestResult]]:
    """Run `tests` group by group (a group stops at its first reject when `on_reject: break`)
    and grade them; returns the grade of `data/` (its `parts` hold every group's score) and
    the test results in the order run."""
    rules = group_rules(problem)
    results: list[TestResult] = []
    scores: dict[str, float] = {}

    def walk(group: str) -> GroupResult:
        rule = rules.get(group, GroupRules())
        prefix = f"{group}/" if group else ""
        children = sorted(
            {t.name[len(prefix) :].split("/")[0] for t in tests if t.name.startswith(prefix) and t.name != group}
        )
        parts: list[tuple[Verdict, float]] = []
        for child in children:
            full = prefix + child
            test = next((t for t in tests if t.name == full), None)
            if test is not None:
                result = run(test, rule)
                score = result.score if result.score is not None else rule.accept_score
                if result.verdict != Verdict.AC:
                    score = rule.reject_score
                results.append(result.model_copy(update={"score": score}))
                parts.append((result.verdict, score))
            else:
                sub = walk(full)
                if not (rule.ignore_sample and full == "sample"):
                    parts.append((sub.verdict, sub.score))
            if parts and parts[-1][0] != Verdict.AC and rule.on_reject == "break":
                break
        verdict = _verdict(rule, [v for v, _ in parts])
        values = [s for _, s in parts]
        score = (min(values) if values else 0.0) if rule.aggregation == "min" else sum(values)
        if rule.range is not None:
            score = min(max(score, rule.range[0]), rule.range[1])
        scores[group] = score
        return GroupResult(name=group, verdict=verdict, score=score)

    top = walk("")
    return top.model_copy(update={"parts": dict(sorted(scores.items()))}), results


def _verdict(rule: GroupRules, verdicts: list[Verdict]) -> Verdict:
    if not verdicts:
        return Verdict.AC
    if rule.accept_if_any_accepted and Verdict.AC in verdicts:
        return Verdict.AC
    errors = [v for v in verdicts if v != Verdict.AC]
    if not errors:
        return Verdict.AC
    if rule.verdict_rule == "worst_error":
        return max(errors, key=lambda v: _SEVERITY.index(v) if v in _SEVERITY else len(_SEVERITY))
    return errors[0]


def max_score(problem: Problem) -> float | None:
    """The most a submission can score (the range of `data/`), when the package says."""
    top = group_rules(problem).get("")
    return top.range[1] if top is not None and top.range is not None else None
