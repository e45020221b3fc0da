"""Per-query records of an evaluation, appended as JSON lines so an interrupted run resumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from aiflows.exceptions import ConfigError

__all__ = ["QueryRecord", "RecordFile"]


class QueryRecord(BaseModel):
    id: str
    sample: int
    query: str
    reference: str
    answer: str = ""
    score: float = 0.0
    turns: int = 0
    tool_calls: dict[str, int] = Field(default_factory=dict)
    invalid_actions: int = 0
    tool_errors: int = 0
    stop_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    trace_id: str = ""  # the run id: `aiflows trace <trace_id>` shows it turn by turn
    trajectory: list[dict[str, Any]] = Field(default_factory=list)
    error: str | None = None  # the run's error (type: message); the query then scores 0

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.sample)


class RecordFile:
    """`records.jsonl`: read what is done, append each new record as soon as it is known."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> list[QueryRecord]:
        if not self.path.is_file():
            return []
        out = []
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(QueryRecord.model_validate(json.loads(line)))
            except (ValueError, ValidationError) as exc:
                raise ConfigError(f"line {number} is not a query record ({exc})", file=str(self.path)) from None
        return out

    def append(self, record: QueryRecord) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(record.model_dump_json() + "\n")
