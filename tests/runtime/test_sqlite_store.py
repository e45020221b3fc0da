"""SqliteStore: the Store protocol in one SQLite file, its call log, and runs recorded by older versions."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import orjson

from aiflows import CompositeFlow, Runtime, SqliteStore, flow
from aiflows._json import dumps
from aiflows.messages import Message
from aiflows.records import JournalEntry, RunRecord, Span


def span(run_id: str, path: str, status: str = "ok", **fields: object) -> Span:
    values: dict = {
        "address": f"a{path}", "session": "default", "request_id": f"q{path}", "parent_id": None, "started_at": 1.0,
        "ended_at": 2.0, "status": status, "input": {"x": path}, "output": {"y": path} if status == "ok" else None,
        "error": {"type": "ValueError", "message": "m"} if status == "error" else None,
    }  # fmt: skip
    values.update(fields)
    return Span(run_id, path, **values)  # type: ignore[arg-type]


async def test_store_round_trips(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "runs.db")
    await store.open()
    try:
        record = RunRecord(run_id="r1", address="a", input={"x": 1}, created_at=time.time())
        await store.save_run(record)
        assert await store.get_run("r1") == record
        assert await store.get_run("nope") is None
        store.record_call(span("r1", "/0"), trace=True, journal=True)
        store.record_call(span("r1", "/1", "error"), trace=True, journal=True)
        store.record_call(span("r1", "/2"), trace=False, journal=True)
        store.record_call(span("r2", "/0"), trace=True, journal=True)  # another run in the same batch
        store.record_journal("r1", "/0/random", JournalEntry("a/0", 42))
        journal = await store.load_journal("r1")  # buffered writes are visible
        assert journal["/0"] == JournalEntry("a/0", {"y": "/0"}) and journal["/0/random"].data == 42
        assert journal["/1"].error == {"type": "ValueError", "message": "m"}
        assert set(journal) == {"/0", "/1", "/2", "/0/random"}
        await store.forget_journal_errors("r1")
        assert set(await store.load_journal("r1")) == {"/0", "/2", "/0/random"}
        spans = await store.spans("r1")
        assert [(s.path, s.status, s.input) for s in spans] == [("/0", "ok", {"x": "/0"}), ("/1", "error", {"x": "/1"})]
        assert [s.path for s in await store.spans("r2")] == ["/0"]
        await store.save_state("a", "s", {"n": 3})
        assert await store.load_state("a", "s") == {"n": 3}
        event = Message.request(sender="a", recipient="b", data={}, run_id="r1").event("token", {"t": "x"})
        store.record_event(event)
        assert [e.data for e in await store.events("r1")] == [{"type": "token", "t": "x"}]
    finally:
        await store.close()


async def test_a_run_ends_in_its_stored_record(tmp_path: Path) -> None:
    """The outcome is written into the start record in place; a run with no start record gets one."""
    from aiflows.messages import ErrorInfo

    store = SqliteStore(tmp_path / "runs.db")
    await store.open()
    try:
        start = RunRecord(run_id="r1", address="a", input={"x": 1}, created_at=1.0, spec={"import": "m:f"})
        await store.save_run(start)
        request = Message.request(sender="c", recipient="a", data={"x": 1}, run_id="r1")
        await store.finish_run(request, request.reply({"y": [1, 2.5, None], "big": 2**70, (1, 2): "odd key"}))
        done = await store.get_run("r1")
        assert done is not None and done.status == "done" and done.finished_at is not None
        assert done.output == {"y": [1, 2.5, None], "big": 2**70, "(1, 2)": "odd key"}
        assert done.model_copy(update={"status": "running", "output": None, "finished_at": None}) == start

        info = ErrorInfo(address="a", type="ValueError", message="bad x", run_id="r2")
        lost = Message.request(sender="c", recipient="a", data={"x": 2}, run_id="r2", session="s")
        await store.finish_run(lost, lost.fail(info))  # no start record: made from the request
        failed = await store.get_run("r2")
        assert failed is not None and (failed.status, failed.error, failed.output) == ("failed", info, None)
        assert (failed.address, failed.session, failed.input) == ("a", "s", {"x": 2})
    finally:
        await store.close()


async def test_a_call_recorded_again_replaces_the_earlier_one(tmp_path: Path) -> None:
    async with Runtime(store=SqliteStore(tmp_path / "runs.db")) as rt:
        store = rt.store
        store.record_call(span("r1", "/0", "error"), trace=True, journal=True)
        await store.flush()  # the retry lands in a later row of the log
        store.record_call(span("r1", "/0"), trace=True, journal=True)
        assert (await store.load_journal("r1"))["/0"].data == {"y": "/0"}
        assert [s.status for s in await store.spans("r1")] == ["ok"]


async def test_the_journal_reaches_disk_while_the_event_loop_is_blocked(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = SqliteStore(path, flush_interval=0.005)
    await store.open()
    try:
        store.record_call(span("r1", "/0"), trace=True, journal=True)
        other = sqlite3.connect(path)
        deadline = time.monotonic() + 10
        rows = 0
        while rows == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # noqa: ASYNC251 - blocks this event loop on purpose: only the writer thread can write
            rows = other.execute("SELECT count(*) FROM call_log WHERE run_id = 'r1'").fetchone()[0]
        other.close()
        assert rows == 1
    finally:
        await store.close()


async def test_runs_recorded_one_row_per_call_still_resume(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE calls (run_id TEXT, path TEXT, status TEXT, traced INTEGER, journaled INTEGER, span BLOB NOT NULL);"
        "CREATE TABLE runs (run_id TEXT PRIMARY KEY, created_at REAL, record TEXT NOT NULL);"
    )
    body = ("job/prepare", "default", "q0", None, 1.0, 2.0, {}, {"ready": True}, None)
    old.execute("INSERT INTO calls VALUES ('old', '/0', 'ok', 1, 1, ?)", (dumps(body),))
    record = RunRecord(run_id="old", address="job", input={}, created_at=time.time(), status="failed")
    old.execute("INSERT INTO runs VALUES ('old', ?, ?)", (record.created_at, record.model_dump_json()))
    old.commit()
    old.close()

    ran: list[str] = []

    @flow
    def prepare() -> dict:
        ran.append("prepare")
        return {"ready": True}

    @flow
    def finish(ready: bool) -> dict:
        ran.append("finish")
        return {"done": ready}

    class Job(CompositeFlow):
        async def handle(self, ctx, data):
            return await self.call("finish", await self.call("prepare", {}))

    async with Runtime(store=SqliteStore(path)) as rt:
        await rt.host(Job(subflows={"prepare": prepare, "finish": finish}, name="job"))
        result = await rt.resume("old")
        assert result.output == {"done": True} and ran == ["finish"]  # prepare came from the old journal
        assert [s.path for s in await rt.store.spans("old")] == ["/0", "/1", ""]


async def test_events_are_stored_as_the_json_pydantic_writes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "runs.db")
    await store.open()
    try:
        asked = Message.request(sender="a", recipient="a/b", data={"q": "é"}, run_id="r1", path="/0")
        plain = asked.event("llm.usage", {"model": "m", "tokens": 3, "cost": 0.5, "cached": False, "pair": (1, 2)})
        odd = asked.event("note", {"by_number": {1: "one"}})  # a key plain JSON cannot spell: pydantic writes it
        for event in (plain, odd):
            store.record_event(event)
        await store.flush()
        (batch,) = [r[0] for r in store.db.execute("SELECT events FROM event_log ORDER BY seq").fetchall()]
        assert orjson.loads(batch) == [orjson.loads(plain.model_dump_json()), orjson.loads(odd.model_dump_json())]
        assert await store.events("r1") == [Message.model_validate_json(e.model_dump_json()) for e in (plain, odd)]
    finally:
        await store.close()


async def test_events_and_drawn_values_written_by_earlier_versions_are_still_read(tmp_path: Path) -> None:
    """Earlier versions wrote a row per event (`events`) and per drawn value (`journal`); batches go to
    `event_log` and the call log now. A store reads both, the older rows first."""
    store = SqliteStore(tmp_path / "runs.db")
    await store.open()
    try:
        asked = Message.request(sender="a", recipient="a/b", data={}, run_id="r1", path="/0")
        old, new = asked.event("note", {"n": 1}), asked.event("note", {"n": 2})
        store.db.execute("INSERT INTO events (run_id, event) VALUES (?, ?)", ("r1", old.model_dump_json()))
        store.db.execute("INSERT INTO journal VALUES (?, ?, ?, ?)", ("r1", "/0/now0", dumps(("a", 12.5, None)), False))
        store.record_event(new)
        store.record_journal("r1", "/0/now1", JournalEntry("a", 13.5))
        await store.flush()
        assert await store.events("r1") == [old, new]
        journal = await store.load_journal("r1")
        assert journal == {"/0/now0": JournalEntry("a", 12.5), "/0/now1": JournalEntry("a", 13.5)}
        assert await store.spans("r1") == []  # a drawn value is no span
        (count,) = store.db.execute("SELECT count(*) FROM journal").fetchone()
        assert count == 1  # the new value went with the call log
    finally:
        await store.close()
