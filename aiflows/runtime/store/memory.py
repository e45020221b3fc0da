"""A store that lives and dies with the process: for tests and throwaway runs."""

from __future__ import annotations

import copy
from typing import Any

from ...bus.base import Bus
from ...messages import Message
from ...records import JournalEntry, RunRecord, Span
from .base import ended_record

__all__ = ["MemoryStore"]


class MemoryStore:
    def __init__(self) -> None:
        self._runs: dict[str, RunRecord] = {}
        self._journal: dict[str, dict[str, JournalEntry]] = {}
        self._state: dict[tuple[str, str], dict[str, Any]] = {}
        self._spans: dict[str, dict[str, Span]] = {}
        self._events: dict[str, list[Message]] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def flush(self) -> None:
        return None

    def pair(self, bus: Bus) -> None:
        """Nothing to pair: the store keeps its records in memory."""

    async def save_run(self, record: RunRecord) -> None:
        self._runs[record.run_id] = record.model_copy(deep=True)

    async def finish_run(self, request: Message, answer: Message) -> None:
        await self.save_run(ended_record(self._runs.get(request.run_id), request, answer))

    async def get_run(self, run_id: str) -> RunRecord | None:
        record = self._runs.get(run_id)
        return record.model_copy(deep=True) if record else None

    async def list_runs(self, limit: int = 20) -> list[RunRecord]:
        return sorted(self._runs.values(), key=lambda r: r.created_at, reverse=True)[:limit]

    async def load_journal(self, run_id: str) -> dict[str, JournalEntry]:
        return dict(self._journal.get(run_id, {}))

    def record_journal(self, run_id: str, path: str, entry: JournalEntry) -> None:
        self._journal.setdefault(run_id, {})[path] = entry

    async def forget_journal_errors(self, run_id: str) -> None:
        entries = self._journal.get(run_id, {})
        for path in [p for p, e in entries.items() if e.error is not None]:
            del entries[path]

    async def load_state(self, address: str, session: str) -> dict[str, Any] | None:
        state = self._state.get((address, session))
        return copy.deepcopy(state) if state is not None else None

    async def save_state(self, address: str, session: str, state: dict[str, Any]) -> None:
        self._state[(address, session)] = copy.deepcopy(state)

    def record_call(self, span: Span, *, trace: bool, journal: bool) -> None:
        if journal:
            self.record_journal(span.run_id, span.path, JournalEntry(span.address, span.output, span.error))
        if trace:
            self._spans.setdefault(span.run_id, {})[span.path] = span

    def record_event(self, event: Message) -> None:
        self._events.setdefault(event.run_id, []).append(event)

    async def spans(self, run_id: str) -> list[Span]:
        return list(self._spans.get(run_id, {}).values())

    async def events(self, run_id: str) -> list[Message]:
        return list(self._events.get(run_id, []))
