"""Durable waits: the process that waits for a person dies; the answer comes; another process finishes the run."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import HERE

from aiflows import Runtime, SqliteStore
from aiflows.human import HumanDesk, HumanRequest

pytestmark = pytest.mark.slow


async def wait_pending(store: Path, timeout: float = 30) -> HumanRequest:
    deadline = time.monotonic() + timeout
    async with Runtime(store=SqliteStore(store)) as rt:
        desk = HumanDesk(rt)
        while time.monotonic() < deadline:
            pending = await desk.pending("d")
            if pending and pending[0].held_until > time.time():
                return pending[0]
            await asyncio.sleep(0.05)
    raise AssertionError("the run never asked its question")


async def answer(store: Path, request_id: str) -> str:
    async with Runtime(store=SqliteStore(store)) as rt:
        await HumanDesk(rt).answer(request_id, "read both\nadd them", by="ada")
        return (await rt.get_run((await HumanDesk(rt).get(request_id)).run_id)).status


async def run_status(store: Path, run_id: str) -> tuple[str, dict | None]:
    async with Runtime(store=SqliteStore(store)) as rt:
        record = await rt.get_run(run_id)
        return record.status, record.output


@pytest.mark.chaos
def test_worker_killed_while_waiting_then_a_new_one_finishes(env: dict[str, str], store_path: Path) -> None:
    first = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiflows.cli",
            "run",
            "human_sample_flows:patient",
            "--session",
            "d",
            "--input",
            json.dumps({"problem": "a+b"}),
            "--store",
            str(store_path),
        ],
        env=env,
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        waiting = asyncio.run(wait_pending(store_path))
        assert first.poll() is None  # it is waiting for the person, in-process
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    run_id = waiting.run_id
    assert asyncio.run(run_status(store_path, run_id))[0] == "running"  # it died mid-run: nobody recorded an end

    assert asyncio.run(answer(store_path, waiting.id)) == "running"

    second = subprocess.Popen(
        [sys.executable, "-m", "aiflows.cli", "human", "--resumer", "--store", str(store_path)],
        env=env,
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while (status := asyncio.run(run_status(store_path, run_id)))[0] != "done" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        second.terminate()
        _, err = second.communicate(timeout=10)
    assert status[0] == "done", err
    assert status[1] == {
        "plan": "read both\nadd them",
        "code": "# read both\n# add them\nprint(sum(map(int, input().split())))\n",
        "answered_by": "ada",
    }
    assert "Traceback" not in err


@pytest.mark.chaos
@pytest.mark.parametrize("separate_resumer", [True, False], ids=["resumer-process", "worker-resumes"])
def test_over_redis_a_worker_dies_waiting_and_another_finishes(
    env: dict[str, str], redis_url: str, separate_resumer: bool
) -> None:
    from aiflows.bus.redis import RedisBus
    from aiflows.runtime.store.redis import RedisStore

    namespace = f"h{uuid.uuid4().hex[:10]}"

    def runtime() -> Runtime:
        return Runtime(bus=RedisBus(redis_url, namespace=namespace), store=RedisStore(redis_url, namespace=namespace))

    def process(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "aiflows.cli", *args],
            env=env,
            cwd=HERE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    serve = ("serve", "human_sample_flows:patient", "--redis", redis_url, "--namespace", namespace)

    async def start_and_wait() -> tuple[str, HumanRequest]:
        from aiflows.bus._redis_conn import RedisBusError

        async with runtime() as rt:
            deadline = time.monotonic() + 30
            while True:  # until the worker has started serving
                try:
                    run_id = await rt.send("patient", {"problem": "a+b"}, session="d")
                    break
                except RedisBusError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)
            desk = HumanDesk(rt)
            while time.monotonic() < deadline:
                pending = await desk.pending("d")
                if pending and pending[0].held_until > time.time():
                    return run_id, pending[0]
                await asyncio.sleep(0.05)
        raise AssertionError("the worker never asked its question")

    async def answer_it(request_id: str) -> None:
        async with runtime() as rt:
            await HumanDesk(rt).answer(request_id, "read both\nadd them", by="ada")

    async def record(run_id: str) -> tuple[str, dict | None]:
        async with runtime() as rt:
            found = await rt.get_run(run_id)
            return found.status, found.output

    first = process(*serve)
    try:
        run_id, waiting = asyncio.run(start_and_wait())
        assert first.poll() is None
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    asyncio.run(answer_it(waiting.id))  # the answer arrives while no worker is up

    second = process(*serve)  # a worker resumes answered runs by itself; a resumer process may help
    children = [second]
    if separate_resumer:
        children.insert(0, process("human", "--resumer", "--redis", redis_url, "--namespace", namespace))
    try:
        deadline = time.monotonic() + 40
        while (status := asyncio.run(record(run_id)))[0] != "done" and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for child in children:
            child.terminate()
        errors = [child.communicate(timeout=20)[1] for child in children]
    assert status[0] == "done", errors
    assert status[1] == {
        "plan": "read both\nadd them",
        "code": "# read both\n# add them\nprint(sum(map(int, input().split())))\n",
        "answered_by": "ada",
    }
