"""Per-problem records: one JSON line per (problem, sample), appended as each one finishes.

The file is the benchmark's memory: a rerun reads it and skips what is recorded, so a killed
run loses at most the problems that were in flight. A line cut short by a kill is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from aiflows.problems import Problem

__all__ = ["ProblemRecord", "RecordError", "RecordFile", "problem_digest"]

RECORDS_FILE = "records.jsonl"


def problem_digest(problem: Problem) -> str:
    """A digest of everything the flow and the judge see of `problem`: an edited problem gets a new one."""
    return hashlib.sha256(problem.model_dump_json().encode()).hexdigest()[:16]


class RecordError(BaseModel):
    """Why a problem could not be run or scored: the error's type and message, and where."""

    type: str
    message: str
    file: str | None = None
    address: str | None = None


class ProblemRecord(BaseModel):
    """What one attempt at one problem left behind."""

    problem_id: str
    sample: int = 0
    status: Literal["done", "error", "load_error", "suspended"]  # suspended: waits for a person
    flow: str
    model: str
    verdict: str | None = None  # on every test (hidden included): AC, WA, ..., NO_CODE
    accepted: bool = False
    sample_verdict: str | None = None  # what the flow last saw on the public samples
    tests_passed: int = 0
    tests_total: int = 0
    code: str | None = None
    language: str = "python"
    rounds: int = 0
    failure: str | None = None  # the flow's own account of a missing program
    run_id: str | None = None  # the trace: `aiflows trace RUN_ID`
    session: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0
    seconds: float = 0.0
    difficulty: str | None = None
    buckets: list[str] = Field(default_factory=list)
    source: str = ""
    error: RecordError | None = None
    finished_at: float = 0.0
    problem_digest: str | None = None  # the problem as it was (records from before it are reused as they are)

    @property
    def key(self) -> tuple[str, int]:
        return (self.problem_id, self.sample)


class RecordFile:
    """`records.jsonl` in an output folder: append one record at a time, read them all back."""

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / RECORDS_FILE

    def load(self) -> dict[tuple[str, int], ProblemRecord]:
        """The latest record of each (problem, sample); unreadable lines (a kill mid-write) are skipped."""
        out: dict[tuple[str, int], ProblemRecord] = {}
        if not self.path.is_file():
            return out
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                record = ProblemRecord.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError):
                continue
            out[record.key] = record
        return out

    def append(self, record: ProblemRecord) -> None:
        """Write one record and flush it to disk, so a kill right after keeps it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = record.model_dump_json() + "\n"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def rewrite(self, records: list[ProblemRecord]) -> None:
        """Replace the file with `records` (used to drop superseded lines)."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
        tmp.replace(self.path)

    def as_dicts(self) -> list[dict[str, Any]]:
        return [r.model_dump(mode="json") for r in self.load().values()]
