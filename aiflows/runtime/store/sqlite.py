"""The default store: one SQLite file, written behind the hot path by a writer thread.

A handled request is one record: its span (when tracing) and the journal entry of the call
that made it (when journaling). Recording appends to a queue; a writer thread commits the
queue every few milliseconds (group commit), each batch as one `call_log` row per run (see
`_call_log`; the values a handler draws, its clock readings and seeds, go in that row too) and
one `event_log` row per run holding the batch's events. Being a thread, it keeps writing while a handler blocks the event loop, so a
process killed mid-run loses at most the last batch of journal: those calls run again on
resume, as at-least-once allows. Reads of calls, journals and events flush first, so they
always see what was recorded.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from pathlib import Path
from typing import Any

import orjson

from ..._json import dumps, loads
from ...bus.base import Bus
from ...messages import Message
from ...records import JournalEntry, RunRecord, Span
from . import _call_log
from .base import ended_record, record_json

__all__ = ["SqliteStore"]

_SCHEMA = """
PRAGMA journal_mode=WAL;
PRAGMA synchronous=NORMAL;
CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, created_at REAL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    run_id TEXT, path TEXT, entry BLOB NOT NULL, is_error INTEGER NOT NULL, PRIMARY KEY (run_id, path));
CREATE TABLE IF NOT EXISTS state (address TEXT, session TEXT, value BLOB NOT NULL, PRIMARY KEY (address, session));
CREATE TABLE IF NOT EXISTS call_log (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, records BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS call_log_by_run ON call_log (run_id, seq);
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, event TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id);
CREATE TABLE IF NOT EXISTS event_log (seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, events BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS event_log_by_run ON event_log (run_id, seq);
"""


def _events_json(events: list[Message]) -> bytes:
    """A batch of one run's events as one JSON array (an `event_log` row), each as `Message.to_wire`
    writes it: orjson over the whole batch when no event holds an error (the usual case, one call),
    else each event on its own, so pydantic spells what plain JSON cannot. The writer thread runs this
    holding the GIL while the event loop waits."""
    if all(event.__dict__["error"] is None for event in events):
        try:
            return orjson.dumps([event.__dict__ for event in events])
        except orjson.JSONEncodeError:  # keys or values plain JSON cannot spell: each event decides
            pass
    return b"[" + b",".join(event.to_wire() for event in events) + b"]"


class SqliteStore:
    def __init__(self, path: str | Path, *, flush_interval: float = 0.005) -> None:
        self.path = Path(path)
        self.flush_interval = flush_interval
        self._db: sqlite3.Connection | None = None
        self._calls: deque[_call_log.Item] = deque()  # the hot path: one append per handled request
        self._queue: deque[Message] = deque()  # events (journaled values go with the calls)
        self._state: dict[tuple[str, str], bytes] = {}  # written, not yet committed: loads must see it
        self._lock = threading.Lock()  # guards the connection
        self._wake = threading.Event()
        # Whether the writer has been woken for what is queued: a plain attribute, read on every record
        # (Event.is_set is a method call); set before the wake-up, cleared by the writer before it pops.
        self._woken = False
        self._stopping = False
        self._writer: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    async def open(self) -> None:
        if self._db is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.executescript(_SCHEMA)
        _call_log.migrate_calls_table(self._db)
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

    def pair(self, bus: Bus) -> None:
        """Nothing to pair: a SQLite store writes its own records."""

    def _write_behind(self) -> None:
        pause = threading.Event()  # never set: a sleep that lets a batch gather
        while not self._stopping:
            self._wake.wait()
            if not self._stopping:
                pause.wait(self.flush_interval)
            self._wake.clear()
            self._woken = False
            self._flush_now()

    def _flush_now(self) -> None:
        with self._lock:
            if self._db is None:
                return
            calls, queue = self._calls, self._queue
            items = [calls.popleft() for _ in range(len(calls))]
            others = [queue.popleft() for _ in range(len(queue))]
            state, self._state = self._state, {}
            if not items and not others and not state:
                return
            by_run: dict[str, list[_call_log.Item]] = {}
            for item in items:
                run_id = item[0].run_id
                batch = by_run.get(run_id)
                if batch is None:
                    by_run[run_id] = [item]
                else:
                    batch.append(item)
            log = [(run_id, _call_log.encode(batch)) for run_id, batch in by_run.items()]
            events_by_run: dict[str, list[Message]] = {}
            for event in others:
                found = events_by_run.get(event.run_id)
                if found is None:
                    events_by_run[event.run_id] = [event]
                else:
                    found.append(event)
            events = [(run_id, _events_json(batch)) for run_id, batch in events_by_run.items()]
            statements = [
                (sql, rows)
                for sql, rows in (
                    ("INSERT INTO call_log (run_id, records) VALUES (?, ?)", log),
                    ("INSERT INTO event_log (run_id, events) VALUES (?, ?)", events),
                    ("INSERT OR REPLACE INTO state VALUES (?, ?, ?)", [(a, s, v) for (a, s), v in state.items()]),
                )
                if rows
            ]
            # Each statement steps SQLite outside the GIL and then waits to take it back from a busy
            # event loop: the usual batch (one run's calls) is one autocommitted statement.
            db = self._db
            if len(statements) == 1 and len(statements[0][1]) == 1:
                db.execute(statements[0][0], statements[0][1][0])
                return
            db.execute("BEGIN")
            try:
                for sql, rows in statements:
                    db.executemany(sql, rows)
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
        raw = record_json(record).decode()
        with self._lock:
            self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (record.run_id, record.created_at, raw))

    async def finish_run(self, request: Message, answer: Message) -> None:
        await self.save_run(ended_record(await self.get_run(request.run_id), request, answer))

    # Runs are written at once, never queued: reading them needs no flush (and the end of every run reads one).
    async def get_run(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self.db.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return RunRecord.model_validate_json(row[0]) if row else None

    async def list_runs(self, limit: int = 20) -> list[RunRecord]:
        with self._lock:
            rows = self.db.execute("SELECT record FROM runs ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
        return [RunRecord.model_validate_json(r[0]) for r in rows]

    # -- journal ----------------------------------------------------------------------------------
    async def load_journal(self, run_id: str) -> dict[str, JournalEntry]:
        rows = self._query("SELECT records FROM call_log WHERE run_id = ? ORDER BY seq", (run_id,))
        journal = _call_log.journal_of(_call_log.decode(rows))
        # Drawn values had rows of their own in `journal` before they joined the call log: still read.
        values = self._query("SELECT path, entry FROM journal WHERE run_id = ?", (run_id,))
        journal.update((path, JournalEntry(*loads(raw))) for path, raw in values)
        return journal

    def record_journal(self, run_id: str, path: str, entry: JournalEntry) -> None:
        # A drawn value (a clock reading, a seed) rides in the call log's row with the calls around it:
        # one INSERT for the batch instead of a journal row of its own.
        self._calls.append(_call_log.value_item(run_id, path, entry))
        if not self._woken:
            self._woken = True
            self._wake.set()

    async def forget_journal_errors(self, run_id: str) -> None:
        self._flush_now()
        with self._lock:
            rows = self.db.execute("SELECT seq, records FROM call_log WHERE run_id = ?", (run_id,)).fetchall()
            changed = [(new, seq) for seq, raw in rows if (new := _call_log.without_error_entries(raw)) is not None]
            if changed:
                self.db.executemany("UPDATE call_log SET records = ? WHERE seq = ?", changed)

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
        if not self._woken:
            self._woken = True
            self._wake.set()

    # -- trace ------------------------------------------------------------------------------------
    def record_call(self, span: Span, *, trace: bool, journal: bool) -> None:
        self._calls.append((span, trace, journal))
        if not self._woken:
            self._woken = True
            self._wake.set()

    def record_event(self, event: Message) -> None:
        self._queue.append(event)
        if not self._woken:
            self._woken = True
            self._wake.set()

    async def spans(self, run_id: str) -> list[Span]:
        rows = self._query("SELECT records FROM call_log WHERE run_id = ? ORDER BY seq", (run_id,))
        return _call_log.spans_of(run_id, _call_log.decode(rows))

    async def events(self, run_id: str) -> list[Message]:
        # Rows of one event each are what earlier versions wrote: read first, they came first.
        rows = self._query("SELECT event FROM events WHERE run_id = ? ORDER BY seq", (run_id,))
        found = [Message.model_validate_json(r[0]) for r in rows]
        batches = self._query("SELECT events FROM event_log WHERE run_id = ? ORDER BY seq", (run_id,))
        found.extend(Message.model_validate(event) for (raw,) in batches for event in loads(raw))
        return found
