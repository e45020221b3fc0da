"""RedisBus under faults, in one process against a real redis-server: first answer wins, poison is
rejected at the first read, transient errors on the answer write are retried, nothing waits forever."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
from redis_support import Echo

from aiflows import FlowError, Runtime
from aiflows.bus._redis_answer import Answerer
from aiflows.bus.redis import RedisBus, _Pending
from aiflows.messages import Message
from aiflows.runtime.store.redis import RedisStore

pytestmark = pytest.mark.slow


def runtime(url: str, ns: str, **overrides: object) -> Runtime:
    return Runtime(bus=RedisBus(url, namespace=ns, **overrides), store=RedisStore(url, namespace=ns))


def waiting_for(bus: RedisBus, request_id: str) -> asyncio.Future[Message]:
    """A future for the answer to a request put on the wire by hand."""
    future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
    bus._pending[request_id] = _Pending(future, None, 0.0, None, "0-0")  # type: ignore[arg-type]
    return future


async def dead_letters(client: aioredis.Redis, ns: str, address: str) -> list[dict[bytes, bytes]]:
    return [fields for _id, fields in await client.xrange(f"{ns}:dead:{address}")]


@pytest.mark.parametrize("poison", ["no message field", "deadline not a number", "message not JSON"])
async def test_poison_is_dead_lettered_at_the_first_read_naming_its_field(redis_url: str, ns: str, poison: str) -> None:
    async with runtime(redis_url, ns, visibility_timeout=60) as rt:
        await rt.host(Echo(name="echo"))
        good = Message.request(sender="t", recipient="echo", data={}, run_id="r", reply_to=rt.bus.client_id)
        fields: dict[str, str] = {
            "no message field": {"junk": "1"},
            "deadline not a number": {"m": good.to_json(), "d": "soon"},
            "message not JSON": {"m": '{"v": 1, "id": '},
        }[poison]
        answer = waiting_for(rt.bus, good.id)
        client = aioredis.Redis.from_url(redis_url)
        try:
            await client.xadd(f"{ns}:in:echo", fields)
            for _ in range(100):  # long before any visibility timeout (60 s here): at the first read
                dead = await dead_letters(client, ns, "echo")
                if dead:
                    break
                await asyncio.sleep(0.05)
            [entry] = dead
            error = json.loads(entry[b"error"])
            assert entry[b"deliveries"] == b"1" and error["type"] == "MessageError"
            field = {"no message field": "'m'", "deadline not a number": "'d'", "message not JSON": "'m'"}[poison]
            assert f"field {field}" in error["message"]
            assert "EOF" not in error["message"] or poison == "message not JSON"
            assert await client.xlen(f"{ns}:in:echo") == 0
            if poison == "deadline not a number":  # the caller is known: it gets the error at once
                told = await asyncio.wait_for(answer, 5)
                assert told.kind == "error" and told.error is not None
                assert told.error.type == "MessageError" and "'d'" in told.error.message
            assert (await rt.call("echo", {"still": "serving"}))["still"] == "serving"
        finally:
            await client.aclose()


async def test_the_first_answer_wins_and_a_late_writer_is_told(redis_url: str, ns: str) -> None:
    async with runtime(redis_url, ns) as rt:
        bus = rt.bus
        assert isinstance(bus, RedisBus)
        answers = Answerer(bus.fast, bus.keys, bus.settings)
        client = aioredis.Redis.from_url(redis_url)
        try:
            ids = []
            for _ in range(2):  # the same request, delivered twice (a paused worker's and its successor's copy)
                ids.append((await client.xadd(f"{ns}:in:x", {"m": "{}"})).decode())
            journal = f"{ns}:journal:r"
            first = await answers.ack("x", ids[0], "", b'{"first": 1}', "req", [("HSET", journal, "/0", "first")])
            late = await answers.ack("x", ids[1], "", b'{"late": 1}', "req", [("HSET", journal, "/0", "late")])
            assert (first, late) == (True, False) and answers.late == 1
            assert await client.get(f"{ns}:done:req") == b'{"first": 1}'
            assert await client.hget(journal, "/0") == b"first"  # the late answer's records are not written
            assert await client.xlen(f"{ns}:in:x") == 0  # both deliveries acked
            # An attempt whose reply was lost and that is written again is not late: it is the same answer.
            again = await client.xadd(f"{ns}:in:x", {"m": "{}"})
            assert await answers.ack("x", again.decode(), "", b'{"first": 1}', "req") is True
            assert answers.late == 1
        finally:
            await client.aclose()


async def test_a_hung_handler_times_out_at_the_default_deadline_and_is_dead_lettered(redis_url: str, ns: str) -> None:
    async def hangs(request: Message) -> Message:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async with runtime(redis_url, ns, deadline=1.0) as rt:  # no within(): the bus's default deadline
        await rt.bus.serve("hangs", hangs)
        with pytest.raises(FlowError) as info:
            await rt.bus.call(Message.request(sender="t", recipient="hangs", data={}, run_id="r"))
        assert info.value.type == "Timeout"
        client = aioredis.Redis.from_url(redis_url)
        try:
            for _ in range(100):
                dead = await dead_letters(client, ns, "hangs")
                if dead:
                    break
                await asyncio.sleep(0.05)
            assert json.loads(dead[0][b"error"])["type"] == "Timeout"
        finally:
            await client.aclose()


async def test_a_handler_raising_every_time_is_dead_lettered_after_its_attempts(redis_url: str, ns: str) -> None:
    runs: list[int] = []

    async def raises(request: Message) -> Message:
        runs.append(1)
        raise KeyError(f"missing piece {len(runs)}")

    async with runtime(redis_url, ns, attempts=2) as rt:
        await rt.bus.serve("raises", raises)
        with pytest.raises(FlowError) as info:
            await rt.bus.call(Message.request(sender="t", recipient="raises", data={}, run_id="r"))
        assert len(runs) == 2
        assert info.value.type == "KeyError" and "2 attempts" in info.value.message
        assert "missing piece 2" in info.value.message  # the last error
        client = aioredis.Redis.from_url(redis_url)
        try:
            [entry] = await dead_letters(client, ns, "raises")
            assert "missing piece 2" in json.loads(entry[b"error"])["message"]
        finally:
            await client.aclose()


async def test_an_answer_written_while_redis_is_busy_is_retried_not_dropped(
    redis_url: str, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    release = asyncio.Event()
    runs: list[int] = []

    async def gated(request: Message) -> Message:
        runs.append(1)
        await release.wait()
        return request.reply({"ok": True})

    admin = redis.Redis.from_url(redis_url)
    threshold = admin.config_get("busy-reply-threshold")["busy-reply-threshold"]
    admin.config_set("busy-reply-threshold", 100)
    busy_script = (  # holds the server for 1.5 s: everyone else is answered BUSY meanwhile
        "local s = redis.call('TIME') while true do local t = redis.call('TIME') "
        "if (t[1] - s[1]) * 1000000 + (t[2] - s[2]) > 1500000 then break end end return 1"
    )
    try:
        async with runtime(redis_url, ns, visibility_timeout=60, liveness=60) as rt:
            await rt.bus.serve("gated", gated)
            call = asyncio.create_task(
                rt.bus.request(Message.request(sender="t", recipient="gated", data={}, run_id="r"))
            )
            while not runs:
                await asyncio.sleep(0.01)
            busy = threading.Thread(target=lambda: redis.Redis.from_url(redis_url).eval(busy_script, 0))
            with caplog.at_level(logging.WARNING, logger="aiflows.bus.redis"):
                busy.start()
                await asyncio.sleep(0.4)
                release.set()  # the answer meets BUSY
                answer = await asyncio.wait_for(call, 20)
                busy.join()
            assert answer.kind == "reply" and answer.data == {"ok": True}
            assert runs == [1]  # written again, not left for another delivery
            assert any("answering a request" in r.getMessage() and "BUSY" in r.getMessage() for r in caplog.records)
    finally:
        admin.config_set("busy-reply-threshold", threshold)
        admin.close()


def _ping(port: int) -> bytes:
    """The server's raw answer to PING (redis-py's connection handshake would wait out LOADING)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(100)
    except OSError:
        return b""


def _start_redis(port: int, workdir: str, *extra: str) -> subprocess.Popen[bytes]:
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", ""]
    process = subprocess.Popen([*args, "--appendonly", "no", *extra], stdout=subprocess.DEVNULL)
    for _ in range(500):
        if _ping(port):
            return process
        time.sleep(0.01)
    raise RuntimeError("redis-server did not start")


async def test_an_answer_written_while_redis_loads_its_data_is_retried_not_dropped(
    tmp_path: Path, ns: str, caplog: pytest.LogCaptureFixture
) -> None:
    from redis_support import free_port

    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _start_redis(port, str(tmp_path), "--enable-debug-command", "yes")
    admin = redis.Redis(port=port)
    admin.execute_command("DEBUG", "POPULATE", 1_000_000)  # enough data that loading it takes a while
    admin.config_set("appendonly", "yes")  # writes the data to the AOF, then keeps it up to date
    while not admin.info("persistence")["aof_enabled"] or admin.info("persistence")["aof_rewrite_in_progress"]:
        time.sleep(0.05)
    release = asyncio.Event()
    runs: list[int] = []

    async def gated(request: Message) -> Message:
        runs.append(1)
        await release.wait()
        return request.reply({"ok": True})

    try:
        async with runtime(url, ns, visibility_timeout=60, liveness=60) as rt:
            await rt.bus.serve("gated", gated)
            call = asyncio.create_task(
                rt.bus.request(Message.request(sender="t", recipient="gated", data={}, run_id="r"))
            )
            while not runs:
                await asyncio.sleep(0.01)
            with caplog.at_level(logging.WARNING, logger="aiflows.bus.redis"):
                admin.shutdown()  # a restart: the handler answers while the server loads its data again
                server.wait()
                server = _start_redis(port, str(tmp_path), "--appendonly", "yes")
                if not _ping(port).startswith(b"-LOADING"):
                    pytest.skip("the data loaded too fast to answer during LOADING")
                release.set()
                answer = await asyncio.wait_for(call, 30)
            assert answer.kind == "reply" and answer.data == {"ok": True}
            assert runs == [1]  # written again once loaded, not rerun after a visibility timeout
            assert any("answering a request" in r.getMessage() and "loading" in r.getMessage() for r in caplog.records)
    finally:
        server.terminate()
        server.wait()
