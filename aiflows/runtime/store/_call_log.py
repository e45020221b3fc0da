"""The call log of `SqliteStore`: handled requests stored as one row per batch and run.

A row per handled request made the writer thread bind parameters and step SQLite once per
call, taking the GIL back from the event loop each time; under a busy loop every take can
wait a full switch interval, so the writer fell behind and the run's end flushed most of
the journal on the loop itself. A batch of calls instead becomes one JSON array per run
(one `INSERT`, one GIL round trip), so the writer keeps up and costs the loop little.

Each record is a JSON array `[traced, journaled, span]`, where `span` is the `Span` without its
run id (the row has it) and without its events: path, address, session, request_id, parent_id,
started_at, ended_at, status, input (null unless traced), output, error. Slicing the span tuple
is the cheapest way to build it, which matters: the writer holds the GIL while it encodes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from ..._json import dumps, loads
from ...records import JournalEntry, Span

__all__ = [
    "FIELDS",
    "decode",
    "encode",
    "journal_of",
    "migrate_calls_table",
    "spans_of",
    "value_item",
    "without_error_entries",
]

FIELDS = (
    "path", "address", "session", "request_id", "parent_id", "started_at", "ended_at", "status", "input", "output", "error",
)  # fmt: skip
_PATH, _ADDRESS, _STATUS, _OUTPUT, _ERROR = 0, 1, 7, 9, 10

Item = tuple[Span, bool, bool]  # (span, trace, journal): what `record_call` queues


def encode(items: Iterable[Item]) -> bytes:
    """One batch of one run's calls as a JSON array of records."""
    return dumps([(traced, journaled, s[1:12] if traced else _untraced(s)) for s, traced, journaled in items])


def value_item(run_id: str, path: str, entry: JournalEntry) -> Item:
    """A value a handler drew (`ctx.now()`, `ctx.random`'s seed) as a journal-only record of the log:
    its address and value where a call's are, so `journal_of` reads it like any answer."""
    span = _new_span(
        Span, (run_id, path, entry.address, "", "", None, 0.0, 0.0, "ok", None, entry.data, entry.error, ())
    )
    return (span, False, True)


_new_span = tuple.__new__  # Span(...) without its generated __new__: every field is given, in order


def _untraced(s: Span) -> tuple[Any, ...]:
    """A span recorded for the journal only keeps no input: tracing is what records requests."""
    return (*s[1:9], None, s[10], s[11])


def decode(rows: Iterable[tuple[bytes]]) -> Iterator[list[Any]]:
    """The records of some rows, in the order they were written."""
    for (raw,) in rows:
        yield from loads(raw)


def journal_of(records: Iterable[list[Any]]) -> dict[str, JournalEntry]:
    """The journal entries among records: the latest answer per path."""
    return {s[_PATH]: JournalEntry(s[_ADDRESS], s[_OUTPUT], s[_ERROR]) for traced, journaled, s in records if journaled}


def spans_of(run_id: str, records: Iterable[list[Any]]) -> list[Span]:
    """The traced records as spans, one per path: a resumed run records its composites again, the last one counts."""
    latest = {s[_PATH]: s for traced, journaled, s in records if traced}
    return [Span(run_id, *s) for s in latest.values()]


def without_error_entries(raw: bytes) -> bytes | None:
    """The row with its failed calls no longer journaled (so a resume retries them), or None if unchanged."""
    records = loads(raw)
    changed = False
    for record in records:
        if record[1] and record[2][_STATUS] == "error":
            record[1] = False
            changed = True
    return dumps(records) if changed else None


def migrate_calls_table(db: sqlite3.Connection) -> None:
    """Move rows of the former one-row-per-call `calls` table into the log, once, so old runs still resume."""
    exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'calls'"
    if db.execute(exists).fetchone() is None:
        return
    db.execute("BEGIN IMMEDIATE")  # another process may be migrating the same file: check again inside the lock
    try:
        if db.execute(exists).fetchone() is not None:
            rows = db.execute(
                "SELECT run_id, path, status, traced, journaled, span FROM calls ORDER BY rowid"
            ).fetchall()
            by_run: dict[str, list[list[Any]]] = {}
            for run_id, path, status, traced, journaled, raw in rows:
                address, session, request_id, parent_id, started, ended, data, output, error = loads(raw)
                by_run.setdefault(run_id, []).append(
                    [bool(traced), bool(journaled),
                     [path, address, session, request_id, parent_id, started, ended, status, data, output, error]]
                )  # fmt: skip
            db.executemany(
                "INSERT INTO call_log (run_id, records) VALUES (?, ?)", [(r, dumps(v)) for r, v in by_run.items()]
            )
            db.execute("DROP TABLE calls")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
