"""RedisBus in one process against a real redis-server: the protocol without worker processes."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis.asyncio as aioredis
from redis_support import Counter, Echo, Fails

from aiflows import AtomicFlow, ConfigError, FlowError, MessageError, Runtime, Sequential, flow
from aiflows.bus.deadline import within
from aiflows.bus.redis import RedisBus, RedisBusError
from aiflows.messages import Message
from aiflows.runtime.store.redis import RedisStore

pytestmark = pytest.mark.slow


def runtime(url: str, ns: str, **overrides) -> Runtime:
    return Runtime(bus=RedisBus(url, namespace=ns, **overrides), store=RedisStore(url, namespace=ns))


@flow
def double(x: int) -> dict:
    return {"x": x * 2}


async def test_a_flow_runs_unchanged_over_redis(redis_url: str, ns: str) -> None:
    pipeline = Sequential(double, double, name="quad")
    async with runtime(redis_url, ns) as rt:
        assert await rt.call(await rt.host(pipeline), {"x": 3}) == {"x": 12}
        result = await rt.run(pipeline, {"x": 1})
    assert result.output == {"x": 4}
    async with Runtime() as local:  # the same answer in process
        assert (await local.run(pipeline, {"x": 1})).output == {"x": 4}


async def test_errors_come_back_typed(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        address = await rt.host(Fails(name="fails"))
        with pytest.raises(FlowError) as info:
            await rt.call(address, {"x": 7})
    assert info.value.type == "ValueError" and "bad value 7" in info.value.message
    assert info.value.address == "fails"


async def test_unknown_address_fails_fast(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        with pytest.raises(FlowError) as info:
            async with asyncio.timeout(5):
                await rt.call("nobody/here", {})
    assert info.value.type == "UnknownAddress" and ns in info.value.message


async def test_address_whose_workers_are_gone_fails_after_wait(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        await rt.host(Echo(name="echo"))
    async with runtime(redis_url, ns, wait_for_worker=0.5) as rt:  # the stream exists, nobody serves it
        client = aioredis.Redis.from_url(redis_url)
        await client.delete(f"{ns}:live:echo")
        await client.aclose()
        with pytest.raises(FlowError) as info:
            async with asyncio.timeout(10):
                await rt.call("echo", {})
    assert info.value.type == "NoWorker" and "echo" in info.value.message


async def test_events_reach_the_caller_before_the_answer(redis_url: str, ns: str) -> None:
    seen: list[str] = []
    pipeline = Sequential(Echo(name="echo"), name="outer")  # events of a nested flow travel up the chain
    async with runtime(redis_url, ns) as rt:
        result = await rt.run(pipeline, {"text": "a b c"}, on_event=lambda e: seen.append(e.data["text"]))
    assert result.status == "done"
    assert seen == ["a", "b", "c"]


async def test_state_is_kept_in_redis(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        address = await rt.host(Counter(name="counter"))
        assert (await rt.call(address, {}, session="s"))["count"] == 1
    async with runtime(redis_url, ns) as rt:  # another runtime (another process, as far as Redis knows)
        await rt.host(Counter(name="counter"))
        assert (await rt.call("counter", {}, session="s"))["count"] == 2
        assert (await rt.call("counter", {}, session="other"))["count"] == 1


async def test_send_does_not_wait(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        address = await rt.host(Counter(name="counter"))
        await rt.bus.send(Message.request(sender="t", recipient=address, data={}, run_id="r1", session="fire"))
        client = aioredis.Redis.from_url(redis_url)
        try:

            async def counted() -> bool:
                return await client.hget(f"{ns}:state:counter", "fire") is not None

            for _ in range(100):
                if await counted():
                    break
                await asyncio.sleep(0.05)
            assert json.loads(await client.hget(f"{ns}:state:counter", "fire")) == {"count": 1}
        finally:
            await client.aclose()


async def test_namespaces_do_not_see_each_other(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns + "a") as a, runtime(redis_url, ns + "b") as b:
        await a.host(Echo(name="echo"))
        assert (await a.call("echo", {"v": 1}))["v"] == 1
        with pytest.raises(FlowError) as info:
            await b.call("echo", {"v": 1})
        assert info.value.type == "UnknownAddress"
        await b.host(Counter(name="echo"))  # the same address name, another deployment
        assert (await b.call("echo", {}))["count"] == 1
        assert "count" not in await a.call("echo", {"v": 2})


async def test_deadline_passed_before_start_is_not_run(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        await rt.host(Echo(name="echo"))
        msg = Message.request(sender="t", recipient="echo", data={}, run_id="r")
        rt.bus.settings  # noqa: B018 - the bus is open
        entry = await rt.bus._enqueue(msg.model_copy(update={"reply_to": rt.bus.client_id}), deadline=1.0)
        assert entry is not None
        fut = asyncio.get_running_loop().create_future()
        from aiflows.bus.redis import _Pending

        rt.bus._pending[msg.id] = _Pending(fut, msg, 0.0, None, entry)
        answer = await asyncio.wait_for(fut, 5)
    assert answer.kind == "error" and answer.error.type == "Timeout"
    assert "before a worker started it" in answer.error.message


async def test_within_stops_the_remote_handler(redis_url: str, ns: str) -> None:
    from redis_support import Slow, marks

    key = f"{ns}:marks"
    async with runtime(redis_url, ns) as rt:
        await rt.host(Slow(name="slow"))
        with pytest.raises(TimeoutError):
            async with within(1.5):
                await rt.call("slow", {"url": redis_url, "key": key, "seconds": 30})
        for _ in range(200):
            if any(m.startswith("cancelled") for m in await marks(redis_url, key)):
                break
            await asyncio.sleep(0.05)
    assert [m.split(":")[0] for m in await marks(redis_url, key)] == ["started", "cancelled"]


async def test_bad_urls_and_unreachable_redis_get_clear_errors(redis_url: str) -> None:
    with pytest.raises(ConfigError, match="scheme"):
        RedisBus("http://localhost:6379")
    with pytest.raises(ConfigError, match="port"):
        RedisBus("redis://localhost:notaport/0")
    with pytest.raises(ConfigError, match="database"):
        RedisBus("redis://localhost:6379/zero")
    with pytest.raises(ConfigError, match="visibility_timeout"):
        RedisBus(redis_url, visibility_timeout=-1)
    from redis_support import free_port

    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(RedisBusError, match="cannot reach Redis"):
        await bus.start()


async def test_acl_user_and_wrong_password(redis_url: str, ns: str) -> None:
    admin = aioredis.Redis.from_url(redis_url)
    await admin.execute_command("ACL", "SETUSER", "flowuser", "on", ">s3cret", f"~{ns}:*", "&*", "+@all")
    await admin.aclose()
    host = redis_url.split("//")[1]
    good = f"redis://flowuser:s3cret@{host}"
    async with runtime(good, ns) as rt:
        await rt.host(Echo(name="echo"))
        assert (await rt.call("echo", {"v": 1}))["v"] == 1
    bad = RedisBus(f"redis://flowuser:wrong@{host}", namespace=ns)
    with pytest.raises(RedisBusError, match="refused the credentials") as info:
        await bad.start()
    assert "wrong" not in str(info.value)  # the password is never printed
    outside = RedisBus(good, namespace=ns + "x")  # the ACL confines this user to its own namespace
    with pytest.raises(RedisBusError, match="may not use the keys"):
        await outside.start()


async def _answer_to(bus: RedisBus, request_id: str) -> Message:
    """Wait for the answer to a request put on the wire by hand."""
    from aiflows.bus.redis import _Pending

    fut = asyncio.get_running_loop().create_future()
    bus._pending[request_id] = _Pending(fut, None, 0.0, None, "0-0")  # type: ignore[arg-type]
    try:
        return await asyncio.wait_for(fut, 10)
    finally:
        bus._pending.pop(request_id, None)


@pytest.mark.parametrize("problem", ["newer", "malformed"])
async def test_bad_messages_are_dead_lettered_and_answered(redis_url: str, ns: str, problem: str) -> None:
    async with runtime(redis_url, ns) as rt:
        await rt.host(Echo(name="echo"))
        good = Message.request(sender="t", recipient="echo", data={}, run_id="r", reply_to=rt.bus.client_id)
        raw = json.loads(good.to_json())
        if problem == "newer":
            raw["v"] = 99
        else:
            raw["kind"] = "shout"
        client = aioredis.Redis.from_url(redis_url)
        waiting = asyncio.create_task(_answer_to(rt.bus, good.id))
        await asyncio.sleep(0)
        await client.xadd(f"{ns}:in:echo", {"m": json.dumps(raw)})
        answer = await waiting
        assert answer.kind == "error" and answer.error.type == "MessageError"
        assert ("newer than this aiflows" if problem == "newer" else "kind") in answer.error.message
        dead = await client.xrange(f"{ns}:dead:echo")
        assert len(dead) == 1 and json.loads(dead[0][1][b"m"]) == raw
        assert await client.xlen(f"{ns}:in:echo") == 0  # nothing left behind, nothing else lost
        await client.aclose()
        assert (await rt.call("echo", {"still": "serving"}))["still"] == "serving"


async def test_a_redelivered_request_returns_the_stored_answer(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        await rt.host(Counter(name="counter"))
        request = Message.request(
            sender="t", recipient="counter", data={}, run_id="r", session="once", reply_to=rt.bus.client_id
        )
        first = await rt.bus.request(request)
        assert first.data["count"] == 1
        client = aioredis.Redis.from_url(redis_url)
        waiting = asyncio.create_task(_answer_to(rt.bus, request.id))
        await asyncio.sleep(0)
        await client.xadd(f"{ns}:in:counter", {"m": request.to_json(), "x": "1"})  # the same request again
        again = await waiting
        await client.aclose()
        assert again.data == first.data and again.id == first.id  # the stored answer, not a second run
        assert (await rt.call("counter", {}, session="once"))["count"] == 2


async def test_streams_stay_bounded_over_a_soak(redis_url: str, ns: str) -> None:
    n = 5000
    async with runtime(redis_url, ns, reply_maxlen=500) as rt:
        await rt.host(Echo(name="echo"))
        bus = rt.bus
        sem = asyncio.Semaphore(64)

        async def one(i: int) -> None:
            async with sem:
                msg = Message.request(sender="t", recipient="echo", data={"i": i}, run_id="soak", path="/0")
                answer = await bus.request(msg)
                assert answer.data["i"] == i

        await asyncio.gather(*(one(i) for i in range(n)))
        client = aioredis.Redis.from_url(redis_url)
        assert await client.xlen(f"{ns}:in:echo") == 0
        assert await client.exists(f"{ns}:reply:{bus.client_id}") == 0  # answers are not streamed: only events are
        assert await client.exists(f"{ns}:dead:echo") == 0
        done = await client.keys(f"{ns}:done:*")
        assert len(done) == n and all(0 < ttl <= 600_000 for ttl in [await client.pttl(key) for key in done[:50]])
        await client.aclose()


@flow
async def nap(seconds: float) -> dict:
    await asyncio.sleep(seconds)
    return {"slept": seconds}


async def test_answers_written_while_the_caller_was_not_listening_still_arrive(redis_url: str, ns: str) -> None:
    """Answers are heard on a channel; one written while nobody listened is read from its `done` key."""
    admin = aioredis.Redis.from_url(redis_url)
    try:
        async with runtime(redis_url, ns) as rt:
            address = await rt.host(nap)
            call = asyncio.ensure_future(rt.call(address, {"seconds": 1.0}))
            await asyncio.sleep(0.2)
            [request] = [p.message for p in rt.bus._pending.values()]
            answer = request.reply({"slept": "elsewhere"})  # as if a worker answered while we were away:
            await admin.set(f"{ns}:done:{request.id}", answer.to_json())  # kept only, not published
            assert not call.done()
            assert await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 1
            assert await asyncio.wait_for(call, 10) == {"slept": "elsewhere"}  # read when it subscribed again
            heard = [await asyncio.wait_for(rt.call(address, {"seconds": 0}), 10) for _ in range(3)]
    finally:
        await admin.aclose()
    assert heard == [{"slept": 0}] * 3


async def test_events_and_an_answer_written_while_the_caller_was_away_arrive_in_order(redis_url: str, ns: str) -> None:
    """On subscribing again, the caller reads missed events from its stream and the answer from its
    `done` key, and hands the events on first; a message it also hears is taken once."""
    admin = aioredis.Redis.from_url(redis_url)
    seen: list[str] = []
    try:
        async with runtime(redis_url, ns) as rt:
            address = await rt.host(nap)

            def on_event(event: Message) -> None:  # notes whether the answer was handed on before this event
                waiting = rt.bus._pending.get(event.correlation_id or "")
                seen.append(event.data["text"] if waiting is not None and not waiting.future.done() else "late")

            run = asyncio.ensure_future(rt.run(address, {"seconds": 1.0}, on_event=on_event))
            await asyncio.sleep(0.2)
            [request] = [p.message for p in rt.bus._pending.values()]
            stream = f"{ns}:reply:{rt.bus.client_id}"
            for text in ("one", "two"):
                await admin.xadd(stream, {"m": request.event("progress", {"text": text}).to_json()})
            heard = request.event("progress", {"text": "three"}).to_json()
            third = await admin.xadd(stream, {"m": heard})
            await admin.set(f"{ns}:done:{request.id}", request.reply({"slept": "away"}).to_json())
            assert await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub") >= 1
            await admin.publish(f"{ns}:notify:{rt.bus.client_id}", third + b" " + heard.encode())  # nobody hears it
            result = await asyncio.wait_for(run, 10)
            await asyncio.sleep(0.1)
            await admin.publish(f"{ns}:notify:{rt.bus.client_id}", third + b" " + heard.encode())  # heard: a duplicate
            await admin.publish(f"{ns}:notify:{rt.bus.client_id}", b"garbage on the channel")
            assert await asyncio.wait_for(rt.call(address, {"seconds": 0}), 10) == {"slept": 0}  # still listening
    finally:
        await admin.aclose()
    assert result.output == {"slept": "away"}
    assert seen == ["one", "two", "three"]


@flow
def increment(x: int) -> dict:
    return {"x": x + 1}


async def test_a_worker_reads_more_inboxes_than_one_read_holds(redis_url: str, ns: str) -> None:
    from aiflows.bus._redis_read import READ_CHUNK

    steps = 2 * READ_CHUNK + 5  # three reads; the last inboxes join reads that are already blocked
    chain = Sequential(*[increment] * steps, name="long")
    async with runtime(redis_url, ns) as rt:
        assert await rt.call(await rt.host(chain), {"x": 1}) == {"x": 1 + steps}
        server = rt.bus._server
        assert [len(r.addresses) for r in server.reads.readers] == [READ_CHUNK, READ_CHUNK, 6]
        late = Sequential(double, name="late")  # served after every read is running: a wake makes one read it
        assert await rt.call(await rt.host(late), {"x": 5}) == {"x": 10}
        assert [len(r.addresses) for r in server.reads.readers] == [READ_CHUNK, READ_CHUNK, 8]
        client = aioredis.Redis.from_url(redis_url)
        assert [await client.xlen(f"{ns}:in:{a}") for a in server.handlers] == [0] * len(server.handlers)
        await client.aclose()
    assert all(r.task is None or r.task.done() for r in server.reads.readers)


class Opaque(AtomicFlow):
    async def handle(self, ctx, data):
        return {"thing": object()} if ctx.input.get("odd") else {"ok": True}


async def test_an_output_no_json_can_carry_gets_a_clear_error_and_the_worker_serves_on(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        await rt.host(Opaque(name="opaque"))
        with pytest.raises(FlowError, match="opaque.*output is not JSON"):
            await rt.call("opaque", {"odd": True})
        assert await rt.call("opaque", {}) == {"ok": True}
        with pytest.raises(MessageError, match="cannot be written as JSON"):
            await rt.call("opaque", {"arg": object()})
        assert await rt.call("opaque", {}) == {"ok": True}
