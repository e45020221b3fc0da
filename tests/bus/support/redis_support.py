"""Flows and helpers for the Redis tests: real worker processes started with `aiflows serve`.

Importable by the workers (their PYTHONPATH includes this folder) and by tests in other folders.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aiflows import AtomicFlow, CompositeFlow

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent


class Echo(AtomicFlow):
    """Answers its input; emits one event per word of `text`."""

    async def handle(self, ctx, data):
        for word in str(ctx.input.get("text", "")).split():
            ctx.emit("token", {"text": word})
        return {**ctx.input, "pid": os.getpid()}


class Counter(AtomicFlow):
    class State(BaseModel):
        count: int = 0

    async def handle(self, ctx, data):
        ctx.state.count += 1
        return {"count": ctx.state.count, "pid": os.getpid()}


async def _mark(url: str, key: str, value: str) -> int:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        return await client.rpush(key, value)
    finally:
        await client.aclose()


class Slow(AtomicFlow):
    """Marks `{key}` with 'started:pid' and 'finished:pid' around a sleep of `seconds`."""

    async def handle(self, ctx, data):
        d = ctx.input
        await _mark(d["url"], d["key"], f"started:{os.getpid()}")
        try:
            await asyncio.sleep(float(d.get("seconds", 1)))
        except asyncio.CancelledError:
            await _mark(d["url"], d["key"], f"cancelled:{os.getpid()}")
            raise
        await _mark(d["url"], d["key"], f"finished:{os.getpid()}")
        return {"pid": os.getpid()}


class Suicide(AtomicFlow):
    """Kills its own worker with SIGKILL: a crash, not a flow error."""

    async def handle(self, ctx, data):
        os.kill(os.getpid(), signal.SIGKILL)
        await asyncio.sleep(10)


class Fails(AtomicFlow):
    async def handle(self, ctx, data):
        raise ValueError(f"bad value {ctx.input.get('x')}")


class Step(AtomicFlow):
    """One step of a composite: counts its executions in Redis, so tests can see what re-ran.

    `pause` makes its first execution slow (later ones, e.g. on resume, are quick).
    """

    async def handle(self, ctx, data):
        d = ctx.input
        executions = await _mark(d["url"], f"{d['key']}:{ctx.address}", str(os.getpid()))
        if d.get("pause") and executions == 1:
            await asyncio.sleep(float(d["pause"]))
        return {**d, "steps": d.get("steps", 0) + 1}


class TwoSteps(CompositeFlow):
    """Calls `first`, then `second` (with the data of the first)."""

    async def handle(self, ctx, data):
        out = await self.call("first", ctx.input)
        return await self.call("second", {**out, "pause": ctx.input.get("second_pause", 0)})


two_steps = TwoSteps(subflows={"first": Step(name="first"), "second": Step(name="second")}, name="two")


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE), env.get("PYTHONPATH", "")])
    return env


class WorkerProcess:
    """`aiflows serve TARGET --redis URL ...` in a child process, ready when it says what it serves."""

    def __init__(self, target: str, url: str, namespace: str, *args: str, cwd: Path = REPO) -> None:
        self.args = [
            sys.executable,
            "-m",
            "aiflows.cli",
            "serve",
            target,
            "--redis",
            url,
            "--namespace",
            namespace,
            "--visibility-timeout",
            "1",
            "--heartbeat",
            "0.2",
            "--grace",
            "2",
            *args,
        ]
        self.process = subprocess.Popen(
            self.args, cwd=cwd, env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.served = self._wait_ready()

    def _wait_ready(self, timeout: float = 20) -> list[str]:
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("serving "):
                return line.split(" as worker ")[0][len("serving ") :].strip().split(", ")
        self.kill()
        raise RuntimeError(f"worker did not start: {' '.join(self.args)}\n{''.join(lines)}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def __enter__(self) -> WorkerProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


async def marks(url: str, key: str) -> list[str]:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        return [m.decode() for m in await client.lrange(key, 0, -1)]
    finally:
        await client.aclose()


async def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        await asyncio.sleep(interval)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
