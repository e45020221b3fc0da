"""Worker processes under faults: a paused worker's requests are taken over once its liveness key is
gone, its late answer changes nothing remembered; a failed run served by workers is traced and
resumed from the command line with `--redis`."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bus" / "support"))

from redis_support import WorkerProcess, marks, wait_for, worker_env  # noqa: E402

from aiflows import Runtime  # noqa: E402
from aiflows.bus._redis_status import collect_status  # noqa: E402
from aiflows.bus.redis import RedisBus  # noqa: E402
from aiflows.runtime.store.redis import RedisStore  # noqa: E402


@pytest.fixture
def ns() -> str:
    return f"f{uuid.uuid4().hex[:10]}"


async def test_a_paused_worker_is_taken_over_and_its_late_answer_changes_nothing(redis_url: str, ns: str) -> None:
    import redis.asyncio as aioredis

    key = f"{ns}:marks"
    # A visibility timeout far longer than the test may wait: only the liveness key can hand the request over.
    options = ("--visibility-timeout", "60", "--heartbeat", "0.2", "--liveness", "0.6")
    with (
        WorkerProcess("redis_support:Slow", redis_url, ns, *options) as one,
        WorkerProcess("redis_support:Slow", redis_url, ns, *options) as two,
    ):
        async with Runtime(bus=RedisBus(redis_url, namespace=ns), store=RedisStore(redis_url, namespace=ns)) as rt:
            run = asyncio.create_task(rt.run("Slow", {"url": redis_url, "key": key, "seconds": 1.0}))
            [started] = await wait_for(lambda: marks(redis_url, key))
            paused = one if started == f"started:{one.pid}" else two
            other = two if paused is one else one
            paused.process.send_signal(signal.SIGSTOP)
            try:
                result = await asyncio.wait_for(run, 30)
            finally:
                paused.process.send_signal(signal.SIGCONT)
            assert result.status == "done" and result.output is not None
            assert result.output["pid"] == other.pid  # answered by the worker that took it over

            async def late_answers() -> int:
                status = await collect_status(redis_url, namespace=ns)
                return sum(w.late_answers for w in status.workers if w.pid == paused.pid)

            assert await wait_for(late_answers, timeout=20) == 1  # the woken worker finished too, and was told
            assert f"finished:{paused.pid}" in await marks(redis_url, key)
            record = await rt.store.get_run(result.run_id)
            assert record is not None and record.output == result.output
            client = aioredis.Redis.from_url(redis_url)
            try:
                spans = [json.loads(s) for s in await client.lrange(f"{ns}:spans:{result.run_id}", 0, -1)]
                assert [span["output"] for span in spans] == [result.output]
                remembered = [json.loads(await client.get(k)) async for k in client.scan_iter(f"{ns}:done:*")]
                assert [answer["data"] for answer in remembered] == [result.output]
            finally:
                await client.aclose()


FLAKY = '''
    """A composite whose second step fails on its first execution (for the resume test)."""
    import os

    import redis.asyncio as aioredis

    from aiflows import AtomicFlow, CompositeFlow


    class Step(AtomicFlow):
        async def handle(self, ctx, data):
            d = ctx.input
            client = aioredis.Redis.from_url(d["url"])
            try:
                executions = await client.rpush(f"{d['key']}:{ctx.address}", os.getpid())
            finally:
                await client.aclose()
            if ctx.address.endswith("second") and executions == 1:
                raise RuntimeError("the second step fails the first time")
            return {**d, "steps": d.get("steps", 0) + 1}


    class Two(CompositeFlow):
        async def handle(self, ctx, data):
            return await self.call("second", await self.call("first", ctx.input))


    two = Two(subflows={"first": Step(name="first"), "second": Step(name="second")}, name="two")
'''


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", *args],
        cwd=cwd,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_trace_and_resume_a_run_served_by_workers_with_redis(redis_url: str, ns: str, tmp_path: Path) -> None:
    (tmp_path / "flaky_flows.py").write_text(textwrap.dedent(FLAKY))
    key = f"{ns}:marks"
    deployment = ("--redis", redis_url, "--namespace", ns)
    with WorkerProcess("flaky_flows:two", redis_url, ns, cwd=tmp_path):
        data = json.dumps({"url": redis_url, "key": key})
        failed = await asyncio.to_thread(cli, tmp_path, "call", "two", "--input", data, *deployment)
        assert failed.returncode == 1 and "the second step fails the first time" in failed.stderr
        match = re.search(r"\(run (\w+)\)", failed.stderr)
        assert match, failed.stderr
        run_id = match.group(1)
        trace = await asyncio.to_thread(cli, tmp_path, "trace", run_id, "--jsonl", *deployment)
        assert trace.returncode == 0, trace.stderr
        rows = [json.loads(line) for line in trace.stdout.splitlines()]
        assert {"two/first", "two/second"} <= {row.get("sender") or row.get("recipient") for row in rows}
        resumed = await asyncio.to_thread(cli, tmp_path, "resume", run_id, *deployment)
        assert resumed.returncode == 0, resumed.stderr
        assert json.loads(resumed.stdout)["steps"] == 2
    assert len(await marks(redis_url, f"{key}:two/first")) == 1  # journaled: not run again on resume
    assert len(await marks(redis_url, f"{key}:two/second")) == 2
    without = await asyncio.to_thread(cli, tmp_path, "trace", run_id)  # the local store does not know it
    assert without.returncode == 1 and "RunNotFound" in without.stderr
