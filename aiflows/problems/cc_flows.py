"""Load Codeforces problems in the cc_flows jsonl schema, and its editorial plans and buckets.

A record carries the statement in parts (`problem_description`, `input_description`,
`output_description`, `note`), tests inline as `[input lines, output]` pairs (`public_tests_io`,
`public_tests_individual_io`, `hidden_tests_io`), the rating (`difficulty`) and `tags`. The judge
reads tests from files, so each problem's tests are written once to a cache folder named by
their content (`<cache>/cc_flows/<id>-<digest>/{sample,secret}/N.{in,ans}`).

Editorial plans (`plans/*.jsonl`: `{"id", "plan", "url"}`) load into `id -> plan` and are attached
as `metadata["plan"]` for the Plan-Oracle flows; evaluation buckets (`{"('before_cutoff',)": [ids]}`
or date -> ids) become `metadata["buckets"]`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aiflows.problems._files import atomic_write, content_digest, default_cache_dir
from aiflows.problems._jsonl import iter_jsonl
from aiflows.problems.errors import ProblemError, ProblemSet
from aiflows.problems.model import Problem, TestCase
from aiflows.problems.statement import format_samples

__all__ = ["CodeforcesRecord", "load_buckets", "load_cc_flows", "load_plans"]

IOPair = tuple[str, str]


class CodeforcesRecord(BaseModel):
    """One line of the cc_flows Codeforces file; field aliases cover the spellings in use."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    name: str = ""
    problem_description: str
    input_description: str = ""
    output_description: str = ""
    note: str | None = None
    public_tests_io: list[IOPair] = Field(default_factory=list)
    public_tests_individual_io: list[IOPair] = Field(default_factory=list)
    hidden_tests_io: list[IOPair] = Field(default_factory=list)
    difficulty: int | None = None
    tags: list[str] = Field(default_factory=list)
    header: str = ""
    time_limit: float | None = None
    memory_limit_mb: int | None = None
    problem_url: str = ""
    non_unique_output: bool = False

    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for canonical, others in (
            ("public_tests_io", ("public_test_io",)),
            ("hidden_tests_io", ("hidden_test_io",)),
            ("public_tests_individual_io", ("public_test_individual_io",)),
            ("difficulty", ("rating",)),
            ("name", ("problem_name", "title")),
        ):
            for other in others:
                if data.get(canonical) in (None, "", []) and data.get(other) not in (None, ""):
                    data[canonical] = data[other]
        if data.get("id") in (None, "") and data.get("contest") is not None:
            index = data.get("problem_index") or data.get("index")
            if index:
                data["id"] = f"{data['contest']}{index}"
        if isinstance(data.get("id"), int):
            data["id"] = str(data["id"])
        for key in ("public_tests_io", "public_tests_individual_io", "hidden_tests_io", "tags"):
            if data.get(key) is None:
                data.pop(key, None)
        return data

    @field_validator("public_tests_io", "public_tests_individual_io", "hidden_tests_io", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> list[IOPair]:
        return [_pair(item, i) for i, item in enumerate(value or [])]


def _pair(item: Any, index: int) -> IOPair:
    """`[["line", ...], "out"]`, `["in", "out"]` or `{"input": ..., "output": ...}` -> (in, out)."""
    if isinstance(item, dict):
        item = [item.get("input"), item.get("output", item.get("expected_output"))]
    if not isinstance(item, (list, tuple)) or len(item) != 2:
        raise ValueError(f"test {index}: expected an [input, output] pair")
    raw_in, raw_out = item
    if isinstance(raw_in, list) and all(isinstance(x, str) for x in raw_in):
        text_in = "\n".join(raw_in)
    elif isinstance(raw_in, str):
        text_in = raw_in
    else:
        raise ValueError(f"test {index}: input must be a string or a list of lines")
    if isinstance(raw_out, list) and all(isinstance(x, str) for x in raw_out):
        raw_out = "\n".join(raw_out)
    if not isinstance(raw_out, str):
        raise ValueError(f"test {index}: output must be a string")
    return _eol(text_in), _eol(raw_out)


def _eol(text: str) -> str:
    return text if text.endswith("\n") or not text else text + "\n"


def load_plans(path: str | Path) -> dict[str, str]:
    """Load editorial plans (`{"id": ..., "plan": ...}` per line) into `problem id -> plan text`.

    Raises:
        ProblemError: the file is missing, or a line is not JSON or lacks `id`/`plan` (naming the line).
    """
    file = Path(path)
    if not file.is_file():
        raise ProblemError("plans file does not exist", path=file)
    plans: dict[str, str] = {}
    for number, record in iter_jsonl(file):
        if isinstance(record, ProblemError):
            raise record
        pid, plan = record.get("id"), record.get("plan")
        if not isinstance(pid, (str, int)) or not isinstance(plan, str):
            raise ProblemError("expected string fields 'id' and 'plan'", path=file, key=f"line {number}")
        plans[str(pid)] = plan.strip()
    return plans


def load_buckets(path: str | Path) -> dict[str, list[str]]:
    """Load an evaluation bucketing file into `problem id -> bucket names` (sorted).

    Keys such as `"('before_cutoff',)"` (a printed Python tuple) become `before_cutoff`.

    Raises:
        ProblemError: the file is missing, not JSON, or not a mapping of bucket -> list of ids.
    """
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProblemError(f"cannot read buckets: {exc.strerror or exc}", path=file) from exc
    except json.JSONDecodeError as exc:
        raise ProblemError(f"not valid JSON: {exc.msg} at line {exc.lineno}", path=file) from exc
    if not isinstance(data, dict):
        raise ProblemError("expected a mapping of bucket name to a list of problem ids", path=file)
    result: dict[str, set[str]] = {}
    for key, ids in data.items():
        if not isinstance(ids, list):
            raise ProblemError("expected a list of problem ids", path=file, key=str(key))
        name = _bucket_name(str(key))
        for pid in ids:
            result.setdefault(str(pid), set()).add(name)
    return {pid: sorted(names) for pid, names in result.items()}


def _bucket_name(key: str) -> str:
    try:
        value = ast.literal_eval(key)
    except (ValueError, SyntaxError):
        return key
    if isinstance(value, tuple):
        return "/".join(str(v) for v in value)
    return str(value)


def load_cc_flows(
    path: str | Path,
    *,
    limit: int | None = None,
    plans: Mapping[str, str] | str | Path | None = None,
    buckets: Mapping[str, list[str]] | str | Path | None = None,
    cache_dir: Path | None = None,
) -> ProblemSet:
    """Load a cc_flows Codeforces `.jsonl` or `.jsonl.gz` file.

    Args:
        path: the jsonl file.
        limit: stop after this many problems.
        plans: a mapping `id -> plan` or a plans jsonl to attach as `metadata["plan"]`.
        buckets: a mapping `id -> bucket names` or a bucketing json for `metadata["buckets"]`.
        cache_dir: where the test files are written (default: the aiflows cache).

    Returns:
        The problems, with `errors` naming each line that could not be used.

    Raises:
        ProblemError: the file does not exist or cannot be read at all.
    """
    file = Path(path)
    if not file.is_file():
        raise ProblemError("path does not exist" if not file.exists() else "expected a file", path=file)
    plan_map = load_plans(plans) if isinstance(plans, (str, Path)) else dict(plans or {})
    bucket_map = load_buckets(buckets) if isinstance(buckets, (str, Path)) else dict(buckets or {})
    cache = (cache_dir if cache_dir is not None else default_cache_dir()).absolute() / "cc_flows"
    problems: list[Problem] = []
    errors: list[ProblemError] = []
    for number, record in iter_jsonl(file):
        if limit is not None and len(problems) >= limit:
            break
        if isinstance(record, ProblemError):
            errors.append(record)
            continue
        try:
            row = CodeforcesRecord.model_validate(record)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(x) for x in first["loc"]) or None
            pid = record.get("id")
            errors.append(
                ProblemError(f"{first['msg']} (line {number})", problem=str(pid) if pid else None, path=file, key=key)
            )
            continue
        problems.append(_problem(row, cache, plan_map.get(row.id), bucket_map.get(row.id)))
    return ProblemSet(problems, errors=errors)


def _problem(row: CodeforcesRecord, cache: Path, plan: str | None, buckets: list[str] | None) -> Problem:
    samples = row.public_tests_io or row.public_tests_individual_io
    folder = cache / f"{_safe(row.id)}-{content_digest(json.dumps([samples, row.hidden_tests_io]))}"
    tests = _write_tests(folder, "sample", samples) + _write_tests(folder, "secret", row.hidden_tests_io)
    time_limit, memory = _header_limits(row.header)
    meta: dict[str, Any] = {
        "difficulty": row.difficulty,
        "rating": row.difficulty,
        "tags": list(row.tags),
        "url": row.problem_url,
        "non_unique_output": row.non_unique_output,
        "problem_description": row.problem_description,
        "input_description": _strip_heading(row.input_description, "Input"),
        "output_description": _strip_heading(row.output_description, "Output"),
        "note": row.note or None,
        "public_tests_individual": [{"input": i, "output": o} for i, o in row.public_tests_individual_io],
        "has_secret_data": bool(row.hidden_tests_io),
    }
    if plan is not None:
        meta["plan"] = plan
    if buckets:
        meta["buckets"] = list(buckets)
        meta["bucket"] = buckets[0] if len(buckets) == 1 else None
    if row.non_unique_output:
        meta["notes"] = ["several outputs may be correct; the default comparison can reject a right answer"]
    return Problem(
        id=row.id,
        title=row.name or row.id,
        statement=_statement(row, [t for t in tests if t.is_sample]),
        source="cc_flows",
        root=None,
        time_limit=row.time_limit or time_limit or 2.0,
        memory_limit_mb=row.memory_limit_mb or memory or 256,
        tests=tests,
        metadata=meta,
    )


def _write_tests(folder: Path, group: str, pairs: list[IOPair]) -> list[TestCase]:
    tests = []
    for i, (text_in, text_out) in enumerate(pairs, 1):
        inp, ans = folder / group / f"{i}.in", folder / group / f"{i}.ans"
        atomic_write(inp, text_in)
        atomic_write(ans, text_out)
        tests.append(TestCase(name=f"{group}/{i}", input_path=inp, answer_path=ans, is_sample=group == "sample"))
    return tests


def _statement(row: CodeforcesRecord, samples: list[TestCase]) -> str:
    parts = [f"# {row.name or row.id}", row.problem_description.strip()]
    if row.input_description.strip():
        parts.append("## Input\n\n" + _strip_heading(row.input_description, "Input"))
    if row.output_description.strip():
        parts.append("## Output\n\n" + _strip_heading(row.output_description, "Output"))
    if samples:
        parts.append(format_samples(samples))
    if row.note and row.note.strip():
        parts.append("## Note\n\n" + _strip_heading(row.note, "Note"))
    return "\n\n".join(parts)


def _strip_heading(text: str, heading: str) -> str:
    text = text.strip()
    return text[len(heading) :].strip() if text.startswith(heading) else text


def _header_limits(header: str) -> tuple[float | None, int | None]:
    """Codeforces headers read 'time limit per test2 seconds memory limit per test256 megabytes'."""
    t = re.search(r"time limit per test\s*([\d.]+)\s*seconds?", header)
    m = re.search(r"memory limit per test\s*(\d+)\s*megabytes", header)
    return (float(t[1]) if t else None), (int(m[1]) if m else None)


def _safe(pid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", pid)[:80] or "problem"
