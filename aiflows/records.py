"""What a run leaves behind: its record, its journal entries, its spans and events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field

from .messages import ErrorInfo

__all__ = ["JournalEntry", "RunRecord", "RunResult", "RunStatus", "Span"]

RunStatus = Literal["running", "done", "failed", "suspended"]


class RunRecord(BaseModel):
    """One top-level request: what was asked, of whom, and how it ended."""

    run_id: str
    address: str
    session: str = "default"
    input: dict[str, Any] = Field(default_factory=dict)
    status: RunStatus = "running"
    output: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    created_at: float
    finished_at: float | None = None
    # How to rebuild the flow to resume it from another process: {"yaml": path, "overrides": [...]}
    # or {"import": "module:attr", "config": {...}}; empty when the flow was built in code.
    spec: dict[str, Any] = Field(default_factory=dict)


class RunResult(BaseModel):
    """What `Runtime.run` returns: the run id and either the output or the error."""

    run_id: str
    status: RunStatus
    output: dict[str, Any] | None = None
    error: ErrorInfo | None = None

    def unwrap(self) -> dict[str, Any]:
        """The output, or the flow's error raised as `FlowError`."""
        if self.error is not None:
            raise self.error.to_exception()
        return self.output or {}


@dataclass(slots=True)
class JournalEntry:
    """The recorded answer of one call (or one random seed / clock reading) in a handler."""

    address: str
    data: Any = None
    error: dict[str, Any] | None = None


class Span(NamedTuple):
    """One handled request: who, where in the run, when, with what in and out.

    A named tuple rather than a dataclass: one is made per call on the hot path, and a tuple is
    built in C (see `Host`) and sliced by the SQLite writer without reading its fields one by one.
    """

    run_id: str
    path: str
    address: str
    session: str
    request_id: str
    parent_id: str | None
    started_at: float
    ended_at: float
    status: Literal["ok", "error", "cancelled"]
    input: dict[str, Any]
    output: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    events: Sequence[dict[str, Any]] = ()

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()
