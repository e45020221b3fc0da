"""The store protocol: runs, their journals, flow state and traces, behind one object per deployment."""

from __future__ import annotations

import time
from typing import Any, Protocol

from ..._json import dumps
from ...bus.base import Bus
from ...messages import ErrorInfo, Message
from ...records import JournalEntry, RunRecord, RunStatus, Span

__all__ = ["Store", "ended_record", "outcome", "record_json"]


class Store(Protocol):
    """Where a runtime keeps what must outlive a process.

    `record_*` methods are on the hot path of every call: they never block and may buffer;
    `flush()` makes everything recorded so far durable. Loads see buffered writes.
    """

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def flush(self) -> None: ...

    def pair(self, bus: Bus) -> None:
        """Work with the runtime's `bus`: a store of the bus's own deployment hands records to its requests
        and answers (a `RedisStore` with a `RedisBus`), so they cost no round trip of their own."""

    # runs
    async def save_run(self, record: RunRecord) -> None: ...

    async def finish_run(self, request: Message, answer: Message) -> None:
        """Record how the run of the root `request` ended: its outcome replaces the stored record's;
        the request stands in for the start when none was stored (its caller went away)."""

    async def get_run(self, run_id: str) -> RunRecord | None: ...

    async def list_runs(self, limit: int = 20) -> list[RunRecord]: ...

    # journal
    async def load_journal(self, run_id: str) -> dict[str, JournalEntry]: ...

    def record_journal(self, run_id: str, path: str, entry: JournalEntry) -> None:
        """Record a value a handler drew (`ctx.random`'s seed, `ctx.now()`); calls come through `record_call`."""

    async def forget_journal_errors(self, run_id: str) -> None: ...

    # state, keyed by (address, session)
    async def load_state(self, address: str, session: str) -> dict[str, Any] | None: ...

    async def save_state(self, address: str, session: str, state: dict[str, Any]) -> None: ...

    # calls: one record per handled request, both its journal entry and its span
    def record_call(self, span: Span, *, trace: bool, journal: bool) -> None:
        """Record a handled request: as a span when `trace`, as the journal entry of its path when `journal`."""

    # trace

    def record_event(self, event: Message) -> None: ...

    async def spans(self, run_id: str) -> list[Span]: ...

    async def events(self, run_id: str) -> list[Message]: ...


def outcome(answer: Message) -> tuple[RunStatus, dict[str, Any] | None, ErrorInfo | None]:
    """A run's status, output and error, from the answer to its root request."""
    if answer.kind == "reply":
        return "done", answer.data, None
    error = answer.error or ErrorInfo(address=answer.sender, type="Unknown", message="no error given")
    return ("suspended" if error.type == "Suspended" else "failed"), None, error


def ended_record(stored: RunRecord | None, request: Message, answer: Message) -> RunRecord:
    """The stored record of a run (or one made from its root request) with the outcome of `answer`."""
    status, output, error = outcome(answer)
    record = stored or RunRecord(
        run_id=request.run_id,
        address=request.recipient,
        session=request.session,
        input=request.data,
        created_at=request.created_at,
    )
    return record.model_copy(update={"status": status, "output": output, "error": error, "finished_at": time.time()})


def record_json(record: RunRecord) -> bytes:
    """A run record as JSON: by orjson when it holds no model (pydantic took about 300 us for a
    fan-out's 1000-key output), by pydantic when it holds an error."""
    fields = record.__dict__
    return dumps(fields) if fields["error"] is None else record.model_dump_json().encode()
