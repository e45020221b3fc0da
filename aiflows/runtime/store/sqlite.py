"""The default store: one SQLite file, written behind the hot path by a writer thread.

A handled request is one row of `calls`: its span (when tracing) and the journal entry of the
call that made it (when journaling). Recording appends to a queue; a writer thread commits the
queue in batches every few milliseconds (group commit). Being a thread, it keeps writing
while a handler blocks the event loop, so a process killed mid-run loses at most the last
few milliseconds of journal: those calls run again on resume, as at-least-once allows.
Reads flush first, so they always see what was recorded.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from pathlib import Path
from typing import Any

from ..._json import dumps, loads
from ...messages import Message
from ...records import JournalEntry, RunRecord, Span
from .base import ended_record

__all__ = ["SqliteStore"]

_SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, created_at REAL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    run_id TEXT, path TEXT, entry BLOB NOT NULL, is_error INTEGER NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE IF NOT EXISTS state (address TEXT, session TEXT, value BLOB NOT NULL, PRIMARY KEY (address, session));
CREATE TABLE IF NOT EXISTS calls (
    run_id TEXT, path TEXT, status TEXT, traced INTEGER, journaled INTEGER, span BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS calls_by_run ON calls (run_id);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id);
"""


class SqliteStore:
    def __init__(self, path: str | Path, *, flush_interval: float = 0.005) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self._db: sqlite3.Connection | None = None
        self._queue: deque[tuple[Any, ...]] = deque()
        self._state: dict[tuple[str, str], bytes] = {}  # written, not yet committed: loads must see it
        self._lock = threading.Lock()  # guards the connection
        self._wake = threading.Event()
        self._stopping = False
        self._writer: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._db is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.executescript(_SCHEMA)
        self._stopping = False
        self._writer = threading.Thread(target=self._write_behind, name=f"aiflows-store:{self.path.name}", daemon=True)
        self._writer.start()

    async def close(self) -> None:
        if self._db is None:
            return
        self._stopping = True
        self._wake.set()
        if self._writer is not None:
            self._writer.join()
        self._flush_now()
        with self._lock:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"the store {self.path} is not open (use it inside `async with Runtime(...)`)")
        return self._db

    async def flush(self) -> None:
        self._flush_now()

    def _write_behind(self) -> None:
        pause = threading.Event()  # never set: a sleep that lets a batch gather
        while not self._stopping:
            self._wake.wait()
            if not self._stopping:
                pause.wait(self.flush_interval)
            self._wake.clear()
            self._flush_now()

    def _enqueue(self, item: tuple[Any, ...]) -> None:
        self._queue.append(item)
        if not self._wake.is_set():
            self._wake.set()

    def _flush_now(self) -> None:
        with self._lock:
            if self._db is None:
                return
            queue = self._queue
            items = [queue.popleft() for _ in range(len(queue))]
            state, self._state = self._state, {}
            if not items and not state:
                return
            journal, calls, events = [], [], []
            for item in items:
                if item[0] == "c":
                    _, s, traced, journaled = item
                    body = (s.address, s.session, s.request_id, s.parent_id, s.started_at, s.ended_at,
                            s.input if traced else None, s.output, s.error)
                    calls.append((s.run_id, s.path, s.status, traced, journaled, dumps(body)))
                elif item[0] == "j":
                    _, run_id, path, e = item
                    journal.append((run_id, path, dumps((e.address, e.data, e.error)), e.error is not None))
                else:
                    events.append((item[1].run_id, item[1].model_dump_json()))
            db = self._db
            db.execute("BEGIN")
            try:
                db.executemany("INSERT OR REPLACE INTO journal VALUES (?, ?, ?, ?)", journal)
                db.executemany("INSERT INTO calls VALUES (?, ?, ?, ?, ?, ?)", calls)
                db.executemany("INSERT INTO events (run_id, event) VALUES (?, ?)", events)
                db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", [(a, s, v) for (a, s), v in state.items()])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        self._flush_now()
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    # -- runs -------------------------------------------------------------------------------------
    async def save_run(self, record: RunRecord) -> None:
        with self._lock:
            self.db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (record.run_id, record.created_at, record.model_dump_json())
            )

    async def finish_run(self, request: Message, answer: Message) -> None:
        await self.save_run(ended_record(await self.get_run(request.run_id), request, answer))

    async def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._query("SELECT record FROM runs WHERE run_id = ?", (run_id,))
        return RunRecord.model_validate_json(rows[0][0]) if rows else None

    async def list_runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._query("SELECT record FROM runs ORDER BY created_at DESC LIMIT ?", (limit,))
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    # -- journal ----------------------------------------------------------------------------------
    async def load_journal(self, run_id: str) -> dict[str, JournalEntry]:
        calls = self._query("SELECT path, span FROM calls WHERE run_id = ? AND journaled = 1 ORDER BY rowid", (run_id,))
        journal = {}
        for path, raw in calls:
            body = loads(raw)
            journal[path] = JournalEntry(body[0], body[7], body[8])
        values = self._query("SELECT path, entry FROM journal WHERE run_id = ?", (run_id,))
        journal.update((path, JournalEntry(*loads(raw))) for path, raw in values)
        return journal

    def record_journal(self, run_id: str, path: str, entry: JournalEntry) -> None:
        self._enqueue(("j", run_id, path, entry))

    async def forget_journal_errors(self, run_id: str) -> None:
        self._query("UPDATE calls SET journaled = 0 WHERE run_id = ? AND status = 'error'", (run_id,))

    # -- state ------------------------------------------------------------------------------------
    async def load_state(self, address: str, session: str) -> dict[str, Any] | None:
        with self._lock:
            raw = self._state.get((address, session))
            if raw is None:
                row = self.db.execute(
                    "SELECT value FROM state WHERE address = ? AND session = ?", (address, session)
                ).fetchone()
                raw = row[0] if row else None
        return loads(raw) if raw is not None else None

    async def save_state(self, address: str, session: str, state: dict[str, Any]) -> None:
        with self._lock:
            self._state[(address, session)] = dumps(state)
        if not self._wake.is_set():
            self._wake.set()

    # -- trace ------------------------------------------------------------------------------------
    def record_call(self, span: Span, *, trace: bool, journal: bool) -> None:
        self._enqueue(("c", span, trace, journal))

    def record_event(self, event: Message) -> None:
        self._enqueue(("e", event))

    async def spans(self, run_id: str) -> list[Span]:
        rows = self._query(
            "SELECT path, status, span FROM calls WHERE run_id = ? AND traced = 1 ORDER BY rowid", (run_id,)
        )
        latest = {path: (status, raw) for path, status, raw in rows}  # a resumed run records its composites again
        spans = []
        for path, (status, raw) in latest.items():
            address, session, request_id, parent_id, started, ended, data, output, error = loads(raw)
            spans.append(Span(run_id, path, address, session, request_id, parent_id, started, ended, status,
                              data, output, error))
        return spans

    async def events(self, run_id: str) -> list[Message]:
        rows = self._query("SELECT event FROM events WHERE run_id = ? ORDER BY seq", (run_id,))
        return [Message.model_validate_json(r[0]) for r in rows]
