"""Workers in their own processes (`aiflows serve`) against a real redis-server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bus" / "support"))

from redis_support import REPO, WorkerProcess, marks, wait_for, worker_env  # noqa: E402

from aiflows import FlowError, Runtime  # noqa: E402
from aiflows.bus.redis import RedisBus  # noqa: E402
from aiflows.runtime.store.redis import RedisStore  # noqa: E402


@pytest.fixture
def ns() -> str:
    return f"w{uuid.uuid4().hex[:10]}"


def runtime(url: str, ns: str, **overrides) -> Runtime:
    return Runtime(bus=RedisBus(url, namespace=ns, **overrides), store=RedisStore(url, namespace=ns))


async def reading(url: str, readers: int) -> bool:
    """Whether `readers` workers wait in a blocking read (no other test's workers are alive)."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        return sum(c.get("cmd") == "xreadgroup" for c in await client.client_list()) >= readers
    finally:
        await client.aclose()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", *args],
        cwd=REPO,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_two_workers_share_an_address_and_status_lists_them(redis_url: str, ns: str) -> None:
    # At most 10 requests at a time each, so that neither worker can take the whole burst in one read.
    with (
        WorkerProcess("redis_support:Echo", redis_url, ns, "--concurrency", "10") as a,
        WorkerProcess("redis_support:Echo", redis_url, ns, "--concurrency", "10") as b,
    ):
        await wait_for(lambda: reading(redis_url, 2))  # both read the inbox before the burst
        async with runtime(redis_url, ns) as rt:
            outputs = await asyncio.gather(*(rt.call("Echo", {"i": i}) for i in range(200)))
        assert [o["i"] for o in outputs] == list(range(200))
        assert {o["pid"] for o in outputs} == {a.pid, b.pid}
        status = cli("status", "--redis", redis_url, "--namespace", ns, "--json")
        assert status.returncode == 0, status.stderr
        report = json.loads(status.stdout)
        (echo,) = [x for x in report["addresses"] if x["address"] == "Echo"]
        assert echo["live"] and len(echo["consumers"]) == 2 and echo["queued"] == 0 and echo["dead"] == 0
        assert all(c["idle_ms"] >= 0 for c in echo["consumers"])
        assert sorted(w["pid"] for w in report["workers"]) == sorted([a.pid, b.pid])
        called = cli(
            "call",
            "Echo",
            "--input",
            '{"text": "hi there"}',
            "--redis",
            redis_url,
            "--namespace",
            ns,
            "--events",
            "--timeout",
            "10",
        )
        assert called.returncode == 0, called.stderr
        assert json.loads(called.stdout)["text"] == "hi there"
        assert '{"type": "token", "text": "hi"}' in called.stderr
    bad = cli("call", "Nobody", "--redis", redis_url, "--namespace", ns)
    assert bad.returncode == 1 and "UnknownAddress" in bad.stderr


async def test_a_composite_and_its_subflows_on_different_workers(redis_url: str, ns: str) -> None:
    key = f"{ns}:steps"
    with (
        WorkerProcess("redis_support:two_steps", redis_url, ns, "--only", "two") as top,
        WorkerProcess("redis_support:two_steps", redis_url, ns, "--exclude", "two") as subs,
    ):
        assert top.served == ["two"] and subs.served == ["two/first", "two/second"]
        async with runtime(redis_url, ns) as rt:
            out = await rt.call("two", {"url": redis_url, "key": key})
        assert out["steps"] == 2
        assert await marks(redis_url, f"{key}:two/first") == [str(subs.pid)]
        assert await marks(redis_url, f"{key}:two/second") == [str(subs.pid)]


@pytest.mark.chaos
async def test_a_killed_worker_s_request_is_taken_over(redis_url: str, ns: str) -> None:
    key = f"{ns}:marks"
    with (
        WorkerProcess("redis_support:Slow", redis_url, ns) as a,
        WorkerProcess("redis_support:Slow", redis_url, ns) as b,
    ):
        async with runtime(redis_url, ns) as rt:
            call = asyncio.create_task(rt.call("Slow", {"url": redis_url, "key": key, "seconds": 1.0}))
            started = await wait_for(lambda: marks(redis_url, key))
            victim = a if started[0] == f"started:{a.pid}" else b
            survivor = b if victim is a else a
            victim.kill()  # SIGKILL in the middle of the request
            out = await asyncio.wait_for(call, 20)
        assert out["pid"] == survivor.pid
        assert await marks(redis_url, key) == [
            f"started:{victim.pid}",
            f"started:{survivor.pid}",
            f"finished:{survivor.pid}",
        ]


@pytest.mark.chaos
async def test_a_request_that_keeps_killing_workers_is_dead_lettered(redis_url: str, ns: str) -> None:
    import redis.asyncio as aioredis

    first = WorkerProcess("redis_support:Suicide", redis_url, ns, "--max-deliveries", "1")
    async with runtime(redis_url, ns) as rt:
        call = asyncio.create_task(rt.call("Suicide", {"n": 1}))
        await asyncio.get_running_loop().run_in_executor(None, first.process.wait)
        with WorkerProcess("redis_support:Suicide", redis_url, ns, "--max-deliveries", "1") as second:
            with pytest.raises(FlowError) as info:
                await asyncio.wait_for(call, 20)
            assert info.value.type == "WorkerCrashed"
            assert second.process.poll() is None  # the request never reached its handler here
            client = aioredis.Redis.from_url(redis_url)
            dead = await client.xrange(f"{ns}:dead:Suicide")
            await client.aclose()
            assert len(dead) == 1 and json.loads(dead[0][1][b"error"])["type"] == "WorkerCrashed"
            status = json.loads(cli("status", "--redis", redis_url, "--namespace", ns, "--json").stdout)
            assert [a["dead"] for a in status["addresses"] if a["address"] == "Suicide"] == [1]


async def test_the_caller_s_timeout_stops_the_remote_handler(redis_url: str, ns: str) -> None:
    key = f"{ns}:marks"
    with WorkerProcess("redis_support:Slow", redis_url, ns) as worker:
        async with runtime(redis_url, ns) as rt:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(1.0):
                    await rt.call("Slow", {"url": redis_url, "key": key, "seconds": 30})
            await wait_for(lambda: _has(redis_url, key, "cancelled"))
        assert await marks(redis_url, key) == [f"started:{worker.pid}", f"cancelled:{worker.pid}"]


async def _has(url: str, key: str, prefix: str) -> bool:
    return any(m.startswith(prefix) for m in await marks(url, key))


@pytest.mark.chaos
async def test_runs_complete_across_a_redis_restart(redis_server, ns: str) -> None:
    url = redis_server.url
    key = f"{ns}:marks"
    with WorkerProcess("redis_support:Slow", url, ns) as worker:
        async with runtime(url, ns) as rt:
            call = asyncio.create_task(rt.call("Slow", {"url": url, "key": key, "seconds": 2.0}))
            await wait_for(lambda: marks(url, key))
            redis_server.stop()
            await asyncio.sleep(0.5)
            redis_server.start()
            out = await asyncio.wait_for(call, 30)
            assert out["pid"] == worker.pid
            again = await asyncio.wait_for(rt.call("Slow", {"url": url, "key": key, "seconds": 0}), 20)
            assert again["pid"] == worker.pid


def test_cli_errors_are_clear_and_lose_nothing(redis_url: str, ns: str) -> None:
    from redis_support import free_port

    down = cli("serve", "redis_support:Echo", "--redis", f"redis://127.0.0.1:{free_port()}/0")
    assert down.returncode == 1 and "RedisBusError: cannot reach Redis" in down.stderr
    bad_url = cli("call", "Echo", "--redis", "http://127.0.0.1:6379")
    assert bad_url.returncode == 1 and "ConfigError" in bad_url.stderr and "scheme" in bad_url.stderr
    bad_input = cli("call", "Echo", "--input", "[1, 2]", "--redis", redis_url)
    assert bad_input.returncode == 1 and "must be a JSON object" in bad_input.stderr
    host = redis_url.split("//")[1]
    denied = cli("status", "--redis", f"redis://nobody:secret@{host}")
    assert denied.returncode == 1 and "refused the credentials" in denied.stderr and "secret" not in denied.stderr
    nothing = cli("serve", "redis_support:two_steps", "--redis", redis_url, "--namespace", ns, "--only", "elsewhere")
    assert nothing.returncode == 1 and "nothing of 'two' to serve" in nothing.stderr


async def test_a_worker_remembers_answers_for_its_processed_ttl(redis_url: str, ns: str) -> None:
    import redis.asyncio as aioredis

    with WorkerProcess("redis_support:Echo", redis_url, ns, "--processed-ttl", "30"):
        async with runtime(redis_url, ns) as rt:
            await rt.call("Echo", {"i": 1})
    client = aioredis.Redis.from_url(redis_url)
    try:
        [key] = [k async for k in client.scan_iter(match=f"{ns}:done:*")]
        assert 0 < await client.ttl(key) <= 30
    finally:
        await client.aclose()
