"""Load HumanEval-style function-level problems (`.jsonl` or `.jsonl.gz`).

Each record has `task_id`, `prompt` (signature and docstring), `entry_point`, `test` (defines
`check(candidate)`) and usually `canonical_solution`. The problem is `kind="function"`: a
program defines `entry_point`, then `test_code` runs `check(entry_point)` against it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from aiflows.problems._jsonl import iter_jsonl
from aiflows.problems.errors import ProblemError, ProblemSet
from aiflows.problems.model import Problem

__all__ = ["HumanEvalRecord", "is_humaneval_record", "load_humaneval"]

DEFAULT_TIME_LIMIT = 3.0  # seconds, the reference harness's per-problem timeout


class HumanEvalRecord(BaseModel):
    """One HumanEval line."""

    model_config = ConfigDict(extra="allow")

    task_id: str
    prompt: str
    entry_point: str
    test: str
    canonical_solution: str | None = None


def is_humaneval_record(record: dict[str, object]) -> bool:
    """True when a record has the HumanEval fields (used to detect the format)."""
    return {"task_id", "prompt", "entry_point"} <= record.keys()


def load_humaneval(path: str | Path, *, limit: int | None = None) -> ProblemSet:
    """Load function-level problems; a bad line is reported in `errors`, the rest load.

    Example:
        >>> s = load_humaneval("../shared/data/cc/humaneval/data/HumanEval.jsonl.gz")  # doctest: +SKIP
        >>> s[0].entry_point, s[0].kind  # doctest: +SKIP
        ('has_close_elements', 'function')

    Raises:
        ProblemError: the file does not exist or cannot be read at all.
    """
    file = Path(path)
    if not file.is_file():
        raise ProblemError("path does not exist" if not file.exists() else "expected a file", path=file)
    problems: list[Problem] = []
    errors: list[ProblemError] = []
    for number, record in iter_jsonl(file):
        if limit is not None and len(problems) >= limit:
            break
        if isinstance(record, ProblemError):
            errors.append(record)
            continue
        try:
            row = HumanEvalRecord.model_validate(record)
        except ValidationError as exc:
            first = exc.errors()[0]
            pid = record.get("task_id")
            errors.append(
                ProblemError(
                    f"{first['msg']} (line {number})",
                    problem=str(pid) if pid else None,
                    path=file,
                    key=".".join(str(x) for x in first["loc"]) or None,
                )
            )
            continue
        problems.append(_problem(row))
    return ProblemSet(problems, errors=errors)


def _problem(row: HumanEvalRecord) -> Problem:
    statement = (
        f"# {row.task_id}: {row.entry_point}\n\nComplete the Python function `{row.entry_point}` "
        f"below so that it behaves as its docstring describes.\n\n```python\n{row.prompt.rstrip()}\n```"
    )
    metadata: dict[str, object] = {"dataset": row.task_id.split("/", 1)[0]}
    if row.canonical_solution is not None:
        metadata["canonical_solution"] = row.canonical_solution
    return Problem(
        id=row.task_id,
        title=row.entry_point,
        statement=statement,
        kind="function",
        source="humaneval",
        time_limit=DEFAULT_TIME_LIMIT,
        entry_point=row.entry_point,
        prompt=row.prompt,
        test_code=row.test,
        metadata=metadata,
    )
