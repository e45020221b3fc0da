"""RedisStore: the Store protocol in Redis, and a run started in one runtime resumed by another."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bus" / "support"))

from redis_support import WorkerProcess, marks, wait_for  # noqa: E402

from aiflows import Runtime, Sequential, flow  # noqa: E402
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
        store.record_call(
            Span("r1", "", "a", "default", "q", None, 1.0, 2.0, "ok", {"x": 1}, {"y": 2}), trace=True, journal=False
        )
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


@flow
def plus_one(x: int) -> dict:
    return {"x": x + 1}


async def test_a_requests_records_land_with_its_answer(redis_url: str, ns: str) -> None:
    """Run end, journal entries and spans reach Redis with the answers, not at the next flush."""
    pipeline = Sequential(plus_one, plus_one, name="twice")
    raw = aioredis.Redis.from_url(redis_url)
    store = RedisStore(redis_url, namespace=ns, flush_interval=3600)  # a flush would come far too late
    try:
        async with Runtime(bus=RedisBus(redis_url, namespace=ns), store=store) as rt:
            result = await rt.run(pipeline, {"x": 1})
            assert result.output == {"x": 3}
            end = json.loads(await raw.hget(f"{ns}:run:{result.run_id}", "end"))
            assert end["status"] == "done" and end["output"] == {"x": 3}
            assert set(await raw.hkeys(f"{ns}:journal:{result.run_id}")) == {b"/0", b"/1"}
            assert await raw.llen(f"{ns}:spans:{result.run_id}") == 3
            record = await store.get_run(result.run_id)
            assert record is not None and record.status == "done" and record.input == {"x": 1}
    finally:
        await raw.aclose()


async def test_a_store_of_another_deployment_writes_its_own_records(redis_url: str, ns: str) -> None:
    raw = aioredis.Redis.from_url(redis_url)
    store = RedisStore(redis_url, namespace=ns + "other", flush_interval=3600)
    try:
        async with Runtime(bus=RedisBus(redis_url, namespace=ns), store=store) as rt:
            result = await rt.run(Sequential(plus_one, name="once"), {"x": 1})
            assert await raw.exists(f"{ns}:journal:{result.run_id}", f"{ns}:spans:{result.run_id}") == 0
            assert (
                await raw.llen(f"{ns}other:spans:{result.run_id}") == 1
            )  # the root's span: still in that store's buffer
            await store.flush()
            assert await raw.llen(f"{ns}other:spans:{result.run_id}") == 2
            assert (await store.get_run(result.run_id)).status == "done"
    finally:
        await raw.aclose()


async def test_start_and_end_of_a_run_land_in_either_order(redis_url: str, ns: str) -> None:
    store = RedisStore(redis_url, namespace=ns)
    await store.open()
    try:
        request = Message.request(sender="c", recipient="a", data={"x": 1}, run_id="r2")
        await store.finish_run(request, request.reply({"y": 2}))  # the worker's end lands first
        ended = await store.get_run("r2")
        assert ended is not None and ended.status == "done" and ended.input == {"x": 1}
        start = RunRecord(run_id="r2", address="a", input={"x": 1}, created_at=time.time(), spec={"import": "m:f"})
        await store.save_run(start)
        record = await store.get_run("r2")
        assert record is not None and record.status == "done" and record.output == {"y": 2}
        assert record.spec == {"import": "m:f"} and record.finished_at is not None
    finally:
        await store.close()


async def test_a_start_record_no_request_carried_is_written_by_flush(redis_url: str, ns: str) -> None:
    store = RedisStore(redis_url, namespace=ns)
    await store.open()
    try:
        await store.save_run(RunRecord(run_id="r3", address="a", created_at=time.time()))
        store.client.disconnect()  # flush connects again to write it
        await store.flush()
        record = await store.get_run("r3")
        assert record is not None and record.status == "running"
        assert [r.run_id for r in await store.list_runs()] == ["r3"]
    finally:
        await store.close()


async def test_a_new_runs_start_record_travels_with_its_first_request(redis_url: str, ns: str) -> None:
    from aiflows.bus._resp import RespClient

    raw = aioredis.Redis.from_url(redis_url)
    store = RedisStore(redis_url, namespace=ns, flush_interval=3600)
    try:
        async with Runtime(bus=RedisBus(redis_url, namespace=ns), store=store) as rt:
            address = await rt.host(plus_one)
            store.client = RespClient("redis://127.0.0.1:1/0", connect_timeout=0.5)  # the store itself cannot write
            result = await asyncio.wait_for(rt.run(address, {"x": 1}), 10)
            assert result.output == {"x": 2}
            fields = await raw.hgetall(f"{ns}:run:{result.run_id}")
            assert (
                json.loads(fields[b"start"])["status"] == "running" and json.loads(fields[b"end"])["status"] == "done"
            )
            assert await raw.zscore(f"{ns}:runs", result.run_id) is not None
            store.client = RespClient(redis_url)  # so that closing can flush
    finally:
        await raw.aclose()


async def test_a_run_is_indexed_and_expires_whether_or_not_its_start_came_with_its_request(
    redis_url: str, ns: str
) -> None:
    """A worker leaves the index and expiry of a run to the start record its request carried; it
    sets them itself when no start came with the request, or when the start's expiry is near."""

    @flow(name="nap")
    async def nap(seconds: float = 0.0) -> dict:
        await asyncio.sleep(seconds)
        return {"woke": True}

    raw = aioredis.Redis.from_url(redis_url)
    try:
        async with Runtime(
            bus=RedisBus(redis_url, namespace=ns), store=RedisStore(redis_url, namespace=ns, ttl=5)
        ) as rt:
            address = await rt.host(nap)
            carried = await rt.run(address, {})  # a new run: its start travels with its request
            lonely = Message.request(sender="c", recipient=address, data={}, run_id="no-start", path="")
            assert (await rt.bus.request(lonely)).data == {"woke": True}  # nobody saved this run's start
            slow = await rt.run(address, {"seconds": 0.6})  # longer than a tenth of the ttl: the end sets it again
            for run_id in (carried.run_id, "no-start", slow.run_id):
                assert await raw.zscore(f"{ns}:runs", run_id) is not None, run_id
                assert 0 < await raw.pttl(f"{ns}:run:{run_id}") <= 5000, run_id
                assert (await rt.get_run(run_id)).status == "done"
            assert await raw.pttl(f"{ns}:run:{slow.run_id}") > 4700  # set when the run ended, not when it started
    finally:
        await raw.aclose()


async def test_the_run_index_keeps_about_max_runs(redis_url: str, ns: str) -> None:
    store = RedisStore(redis_url, namespace=ns, max_runs=10)
    await store.open()
    try:
        for i in range(200):
            await store.save_run(RunRecord(run_id=f"r{i:03}", address="a", created_at=1000.0 + i))
        await store.flush()
        listed = [r.run_id for r in await store.list_runs(limit=500)]
        assert listed[0] == "r199" and 10 <= len(listed) <= 10 + 64  # trimmed every 64 saves
    finally:
        await store.close()
