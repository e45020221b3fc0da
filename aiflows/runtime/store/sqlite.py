"""The default store: one SQLite file, written behind the hot path in small batches.

Journal entries, spans and events are buffered and committed every `flush_interval` seconds
(and at the end of every run), so a call costs a list append rather than a disk commit.
A process killed between two flushes loses at most that window of journal: those calls run
again on resume, which the at-least-once contract allows.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

from ..._json import dumps, loads
from ...messages import Message
from ...records import JournalEntry, RunRecord, Span

__all__ = ["SqliteStore"]

_SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, created_at REAL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    run_id TEXT, path TEXT, entry TEXT NOT NULL, is_error INTEGER NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE IF NOT EXISTS state (address TEXT, session TEXT, value TEXT NOT NULL, PRIMARY KEY (address, session));
CREATE TABLE IF NOT EXISTS spans (
    run_id TEXT, path TEXT, address TEXT, session TEXT, request_id TEXT, parent_id TEXT,
    started_at REAL, ended_at REAL, status TEXT, io BLOB);
CREATE INDEX IF NOT EXISTS spans_by_run ON spans (run_id);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id);
"""


class SqliteStore:
    def __init__(self, path: str | Path, *, flush_interval: float = 0.05, max_buffer: int = 2000) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self.max_buffer = max_buffer
        self._db: sqlite3.Connection | None = None
        self._journal: list[tuple[str, str, JournalEntry]] = []
        self._spans: list[Span] = []
        self._events: list[Message] = []
        self._state: dict[tuple[str, str], str] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._pending = 0

    # lifecycle
    async def open(self) -> None:
        if self._db is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.executescript(_SCHEMA)

    async def close(self) -> None:
        if self._db is None:
            return
        self._flush_now()
        self._db.close()
        self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"the store {self.path} is not open (use it inside `async with Runtime(...)`)")
        return self._db

    async def flush(self) -> None:
        self._flush_now()

    def _schedule_flush(self) -> None:
        self._pending += 1
        if self._pending >= self.max_buffer:
            self._flush_now()
        elif self._flush_handle is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self._flush_now()
                return
            self._flush_handle = loop.call_later(self.flush_interval, self._flush_now)

    def _flush_now(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._db is None or not (self._journal or self._spans or self._events or self._state):
            return
        journal, spans, events, state = self._journal, self._spans, self._events, self._state
        self._journal, self._spans, self._events, self._state = [], [], [], {}
        self._pending = 0
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?)",
                [(run, path, dumps((e.address, e.data, e.error)), e.error is not None) for run, path, e in journal],
            )
            db.executemany(
                "INSERT INTO spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (s.run_id, s.path, s.address, s.session, s.request_id, s.parent_id, s.started_at, s.ended_at,
                     s.status, dumps((s.input, s.output, s.error)))
                    for s in spans
                ],
            )
            db.executemany(
                "INSERT INTO events (run_id, event) VALUES (?, ?)", [(e.run_id, e.model_dump_json()) for e in events]
            )
            db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", [(a, s, v) for (a, s), v in state.items()])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # runs
    async def save_run(self, record: RunRecord) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (record.run_id, record.created_at, record.model_dump_json())
        )

    async def get_run(self, run_id: str) -> RunRecord | None:
        row = self.db.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return RunRecord.model_validate_json(row[0]) if row else None

    async def list_runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self.db.execute("SELECT record FROM runs ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    # journal
    async def load_journal(self, run_id: str) -> dict[str, JournalEntry]:
        self._flush_now()
        rows = self.db.execute("SELECT path, entry FROM journal WHERE run_id = ?", (run_id,)).fetchall()
        return {path: JournalEntry(*loads(raw)) for path, raw in rows}

    def record_journal(self, run_id: str, path: str, entry: JournalEntry) -> None:
        self._journal.append((run_id, path, entry))
        self._schedule_flush()

    async def forget_journal_errors(self, run_id: str) -> None:
        self._flush_now()
        self.db.execute("DELETE FROM journal WHERE run_id = ? AND is_error = 1", (run_id,))

    # state
    async def load_state(self, address: str, session: str) -> dict[str, Any] | None:
        raw = self._state.get((address, session))
        if raw is None:
            row = self.db.execute(
                "SELECT value FROM state WHERE address = ? AND session = ?", (address, session)
            ).fetchone()
            raw = row[0] if row else None
        return json.loads(raw) if raw is not None else None

    async def save_state(self, address: str, session: str, state: dict[str, Any]) -> None:
        self._state[(address, session)] = json.dumps(state)
        self._schedule_flush()

    # trace
    def record_span(self, span: Span) -> None:
        self._spans.append(span)
        self._schedule_flush()

    def record_event(self, event: Message) -> None:
        self._events.append(event)
        self._schedule_flush()

    async def spans(self, run_id: str) -> list[Span]:
        self._flush_now()
        rows = self.db.execute("SELECT * FROM spans WHERE run_id = ? ORDER BY rowid", (run_id,)).fetchall()
        latest = {row[1]: row for row in rows}  # a resumed run records its composites again: keep the last
        return [Span(*row[:9], *loads(row[9])) for row in latest.values()]

    async def events(self, run_id: str) -> list[Message]:
        self._flush_now()
        rows = self.db.execute("SELECT event FROM events WHERE run_id = ? ORDER BY seq", (run_id,)).fetchall()
        return [Message.model_validate_json(r[0]) for r in rows]
