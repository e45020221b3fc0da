"""RedisStore: the Store protocol in Redis, and a run started in one runtime resumed by another."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bus" / "support"))

from redis_support import WorkerProcess, marks, wait_for  # noqa: E402

from aiflows import Runtime  # noqa: E402
from aiflows.bus.redis import RedisBus  # noqa: E402
from aiflows.messages import Message  # noqa: E402
from aiflows.records import JournalEntry, RunRecord, Span  # noqa: E402
from aiflows.runtime.store.redis import RedisStore  # noqa: E402


@pytest.fixture
def ns() -> str:
    return f"s{uuid.uuid4().hex[:10]}"


async def test_store_round_trips(redis_url: str, ns: str) -> None:
    store = RedisStore(redis_url, namespace=ns)
    await store.open()
    try:
        record = RunRecord(run_id="r1", address="a", input={"x": 1}, created_at=time.time())
        await store.save_run(record)
        assert await store.get_run("r1") == record
        assert await store.get_run("nope") is None
        assert [r.run_id for r in await store.list_runs()] == ["r1"]
        store.record_journal("r1", "/0", JournalEntry("a/b", {"y": 2}))
        store.record_journal("r1", "/1", JournalEntry("a/c", None, {"type": "ValueError", "message": "m"}))
        assert (await store.load_journal("r1"))["/0"].data == {"y": 2}  # buffered writes are visible
        await store.flush()
        assert set(await store.load_journal("r1")) == {"/0", "/1"}
        await store.forget_journal_errors("r1")
        assert set(await store.load_journal("r1")) == {"/0"}
        assert await store.load_state("a", "s") is None
        await store.save_state("a", "s", {"n": 3})
        assert await store.load_state("a", "s") == {"n": 3}
        store.record_call(Span("r1", "", "a", "default", "q", None, 1.0, 2.0, "ok", {"x": 1}, {"y": 2}), trace=True, journal=False)
        event = Message.request(sender="a", recipient="b", data={}, run_id="r1").event("token", {"t": "x"})
        store.record_event(event)
        assert [s.output for s in await store.spans("r1")] == [{"y": 2}]
        assert [e.data for e in await store.events("r1")] == [{"type": "token", "t": "x"}]
    finally:
        await store.close()


async def test_a_run_resumes_in_another_runtime_from_its_journal(redis_url: str, ns: str) -> None:
    key = f"{ns}:steps"
    data = {"url": redis_url, "key": key, "second_pause": 30}
    with WorkerProcess("redis_support:two_steps", redis_url, ns):
        first = Runtime(bus=RedisBus(redis_url, namespace=ns), store=RedisStore(redis_url, namespace=ns))
        async with first:
            run = asyncio.create_task(first.run("two", data, run_id="resume-me"))
            await wait_for(lambda: marks(redis_url, f"{key}:two/second"))  # the first step is done and journaled
            run.cancel()  # this caller goes away mid-run; the worker stops the composite
            with pytest.raises(asyncio.CancelledError):
                await run
        await asyncio.sleep(0.3)
        second = Runtime(bus=RedisBus(redis_url, namespace=ns), store=RedisStore(redis_url, namespace=ns))
        async with second:
            record = await second.get_run("resume-me")
            assert record.status == "running" and record.input == data
            result = await second.resume("resume-me")
        assert result.status == "done" and result.output["steps"] == 2
    assert len(await marks(redis_url, f"{key}:two/first")) == 1  # answered from the journal, not run again
    assert len(await marks(redis_url, f"{key}:two/second")) == 2
