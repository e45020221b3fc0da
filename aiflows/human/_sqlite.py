"""Questions and answers in a SQLite file: the same file as the run store, a table of its own.

Several processes may share the file (a worker that asks, a terminal or web page that answers):
every change that must be decided once (answer, expire, claim) is one guarded UPDATE, and SQLite
serializes writers, so exactly one of two concurrent answers changes the row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ._models import HumanRequest
from ._store import Closing, close_payload

__all__ = ["SqliteHumanStore"]

_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS human_requests (
    id TEXT PRIMARY KEY, run_id TEXT NOT NULL, session TEXT NOT NULL, status TEXT NOT NULL,
    created_at REAL NOT NULL, doc TEXT NOT NULL, wake_at REAL, held_until REAL NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS human_by_status ON human_requests (status, session);
CREATE INDEX IF NOT EXISTS human_by_run ON human_requests (run_id);
CREATE INDEX IF NOT EXISTS human_by_wake ON human_requests (wake_at);
"""


class SqliteHumanStore:
    """A `HumanStore` in the table `human_requests` of a SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None

    async def open(self) -> None:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.executescript(_SCHEMA)

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"the human store {self.path} is not open")
        return self._db

    def _load(self, raw: str, held_until: float) -> HumanRequest:
        request = HumanRequest.model_validate_json(raw)
        request.held_until = held_until
        return request

    async def create(self, request: HumanRequest) -> HumanRequest:
        await self.open()
        self.db.execute(
            "INSERT OR IGNORE INTO human_requests (id, run_id, session, status, created_at, doc, wake_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                request.id,
                request.run_id,
                request.session,
                request.status,
                request.created_at,
                request.model_dump_json(),
                request.deadline,
            ),
        )
        stored = await self.get(request.id)
        assert stored is not None
        return stored

    async def get(self, request_id: str) -> HumanRequest | None:
        await self.open()
        row = self.db.execute("SELECT doc, held_until FROM human_requests WHERE id = ?", (request_id,)).fetchone()
        return self._load(*row) if row else None

    async def pending(self, session: str | None = None) -> list[HumanRequest]:
        await self.open()
        if session is None:
            rows = self.db.execute(
                "SELECT doc, held_until FROM human_requests WHERE status = 'pending' ORDER BY created_at"
            ).fetchall()
        else:
            rows = self.db.execute(
                "SELECT doc, held_until FROM human_requests WHERE status = 'pending' AND session = ? ORDER BY created_at",
                (session,),
            ).fetchall()
        return [self._load(*r) for r in rows]

    async def for_run(self, run_id: str) -> list[HumanRequest]:
        await self.open()
        rows = self.db.execute(
            "SELECT doc, held_until FROM human_requests WHERE run_id = ? ORDER BY created_at", (run_id,)
        ).fetchall()
        return [self._load(*r) for r in rows]

    async def close_request(
        self, request_id: str, status: Closing, answer: dict[str, Any] | None, by: str | None, at: float
    ) -> tuple[bool, HumanRequest | None]:
        current = await self.get(request_id)
        if current is None:
            return False, None
        if current.status != "pending":
            return False, current
        closed = close_payload(current, status, answer, by, at)
        doc = closed.model_copy(update={"held_until": 0.0})
        cursor = self.db.execute(
            "UPDATE human_requests SET status = ?, doc = ?, wake_at = ? WHERE id = ? AND status = 'pending'",
            (status, doc.model_dump_json(), at, request_id),
        )
        if cursor.rowcount == 1:
            return True, closed
        return False, await self.get(request_id)  # another process closed it between our read and write

    async def consume(self, request_id: str) -> None:
        current = await self.get(request_id)
        if current is None or current.consumed:
            return
        done = current.model_copy(update={"consumed": True, "held_until": 0.0})
        self.db.execute(
            "UPDATE human_requests SET doc = ?, wake_at = NULL WHERE id = ?", (done.model_dump_json(), request_id)
        )

    async def hold(self, request_id: str, until: float) -> None:
        await self.open()
        self.db.execute("UPDATE human_requests SET held_until = ? WHERE id = ?", (until, request_id))

    async def due(self, now: float, limit: int = 50) -> list[str]:
        await self.open()
        rows = self.db.execute(
            "SELECT id FROM human_requests WHERE wake_at IS NOT NULL AND wake_at <= ? ORDER BY wake_at LIMIT ?",
            (now, limit),
        ).fetchall()
        return [r[0] for r in rows]

    async def claim(self, request_id: str, now: float, until: float) -> HumanRequest | None:
        await self.open()
        cursor = self.db.execute(
            "UPDATE human_requests SET wake_at = ? WHERE id = ? AND wake_at IS NOT NULL AND wake_at <= ?",
            (until, request_id, now),
        )
        return await self.get(request_id) if cursor.rowcount == 1 else None

    async def reschedule(self, request_id: str, at: float | None) -> None:
        await self.open()
        self.db.execute("UPDATE human_requests SET wake_at = ? WHERE id = ?", (at, request_id))
