"""An operator's bad day, reproducible: real redis-server, real `aiflows serve` workers, real signals.

`run_chaos(Schedule(...), workdir)` starts a redis-server (appendonly, fsync always) and three
workers serving `chaos_support:work`, sends requests with distinct payloads from this process at
a bounded concurrency, and meanwhile SIGKILLs and restarts workers, restarts redis-server
(gracefully and by SIGKILL), pauses a worker with SIGSTOP past the visibility timeout, and puts
malformed requests in the inbox. It returns what happened (`ChaosReport`); the test asserts on it
and `benchmarks/redis_bus.py` reports its latency. Workers import this module by name, so it
holds the flow they serve too.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiflows import AtomicFlow

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def digest(i: int, text: str) -> str:
    return hashlib.sha256(f"{i}:{text}".encode()).hexdigest()[:16]


class Work(AtomicFlow):
    """Counts its execution in Redis (so duplicates can be told), works a little, answers a digest."""

    async def handle(self, ctx: Any, data: Any) -> dict[str, Any]:
        import redis.asyncio as aioredis
        import redis.exceptions as rex

        d = ctx.input
        client = aioredis.Redis.from_url(d["url"])
        try:
            while True:  # the count must land even while Redis restarts
                try:
                    await client.hincrby(d["key"], str(d["i"]), 1)
                    break
                except (rex.ConnectionError, rex.TimeoutError, rex.BusyLoadingError, OSError):
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        await asyncio.sleep(float(d.get("work_s", 0)))
        return {"i": d["i"], "digest": digest(d["i"], d["text"]), "pid": os.getpid()}


work = Work(name="work")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A redis-server on a fixed port and folder: stopped gracefully or killed, and started again on its data."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir)]
        args += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
            self.process = None


class Workers:
    """`aiflows serve chaos_support:work` processes; their output goes to files, never to a pipe of ours."""

    def __init__(self, url: str, namespace: str, workdir: Path, options: list[str]) -> None:
        self.url = url
        self.namespace = namespace
        self.workdir = workdir
        self.options = options
        self.processes: list[subprocess.Popen[bytes]] = []
        self.started = 0

    def start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(HERE), env.get("PYTHONPATH", "")])
        self.started += 1
        log = open(self.workdir / f"worker-{self.started}.log", "wb")  # noqa: SIM115 - the child keeps it
        args = [sys.executable, "-m", "aiflows.cli", "serve", "chaos_support:work", "--redis", self.url]
        process = subprocess.Popen(
            [*args, "--namespace", self.namespace, *self.options],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
        log.close()
        process.log = self.workdir / f"worker-{self.started}.log"  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def wait_ready(self, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b"serving " in process.log.read_bytes():  # type: ignore[attr-defined]
                return
            if process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"worker did not start: {process.log.read_text()}")  # type: ignore[attr-defined]

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.processes if p.poll() is None]

    def stop_all(self) -> None:
        for process in self.live():
            process.send_signal(signal.SIGCONT)
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class Schedule:
    """What the bad day holds. `scale` multiplies everything (10 for the long variant)."""

    requests: int = 1000
    concurrency: int = 32
    kills: int = 10
    redis_restarts: int = 2  # every other one by SIGKILL
    stops: int = 1
    poisons: int = 6
    spacing_s: float = 2.0  # between two faults
    visibility_timeout: float = 3.0
    heartbeat: float = 0.2
    liveness: float = 1.0
    work_s: float = 0.005
    hang_s: float = 90.0  # a call without an answer this long counts as hung
    seed: int = 20

    def scaled(self, scale: int) -> Schedule:
        return Schedule(
            requests=self.requests * scale,
            concurrency=self.concurrency,
            kills=self.kills * scale,
            redis_restarts=self.redis_restarts * scale,
            stops=self.stops * scale,
            poisons=self.poisons * scale,
            spacing_s=self.spacing_s,
            visibility_timeout=self.visibility_timeout,
            heartbeat=self.heartbeat,
            liveness=self.liveness,
            work_s=self.work_s,
            hang_s=self.hang_s,
            seed=self.seed,
        )

    def events(self) -> list[str]:
        """The faults in order: restarts and stops spread among the kills, poison only at quiet moments."""
        faults = ["kill"] * self.kills
        rng = random.Random(self.seed)
        for k in range(self.redis_restarts):
            faults.insert(rng.randrange(1, len(faults)), "redis-kill" if k % 2 else "redis-term")
        for _ in range(self.stops):
            faults.insert(rng.randrange(1, len(faults)), "stop")
        every = max(1, len(faults) // max(1, self.poisons))
        events: list[str] = []
        for index, fault in enumerate(faults):
            events.append(fault)
            if index % every == every - 1 and events.count("poison") < self.poisons:
                events.append("poison")
        events += ["poison"] * (self.poisons - events.count("poison"))
        return events

    def duration_s(self) -> float:
        return len(self.events()) * self.spacing_s + self.stops * (self.visibility_timeout + 1)


@dataclass
class ChaosReport:
    sent: int = 0
    answered: int = 0
    lost: list[int] = field(default_factory=list)
    wrong: list[int] = field(default_factory=list)
    hung: list[int] = field(default_factory=list)
    misremembered: list[int] = field(default_factory=list)
    executions: int = 0
    duplicates: int = 0
    unexecuted: list[int] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    poison_sent: int = 0
    poison_dead_ms: list[float] = field(default_factory=list)  # from the poison's XADD to its dead letter
    faults: dict[str, int] = field(default_factory=dict)
    late_answers: int = 0
    taken_from_dead: int = 0
    wall_s: float = 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    def summary(self) -> str:
        return (
            f"CHAOS sent={self.sent} answered={self.answered} lost={len(self.lost)} wrong={len(self.wrong)} "
            f"hung={len(self.hung)} misremembered={len(self.misremembered)} duplicates={self.duplicates} "
            f"dup_rate={self.duplicates / max(1, self.sent):.3%} p50_ms={self.pct(0.5):.1f} "
            f"p99_ms={self.pct(0.99):.1f} max_ms={max(self.latencies_ms, default=0):.0f} "
            f"poison={self.poison_sent} poison_max_ms={max(self.poison_dead_ms, default=float('nan')):.0f} "
            f"late_answers_seen={self.late_answers} taken_from_dead_seen={self.taken_from_dead} "
            f"faults={json.dumps(self.faults, sort_keys=True)} wall_s={self.wall_s:.0f}"
        )


POISON: list[dict[str, str]] = [
    {"junk": "no message field"},
    {"m": '{"v": 1, "id": "broken'},  # not JSON
    {"m": "", "d": "soon"},  # filled in with a valid message: only the deadline is wrong
]


def run_chaos(schedule: Schedule, workdir: Path, *, namespace: str = "chaos") -> ChaosReport:
    """Run the schedule; everything started here is stopped before it returns."""
    from chaos_run import drive  # the asynchronous half, kept in a module of its own

    server = RedisProcess(workdir)
    server.start()
    options = [
        "--visibility-timeout",
        str(schedule.visibility_timeout),
        "--heartbeat",
        str(schedule.heartbeat),
        "--liveness",
        str(schedule.liveness),
        "--max-deliveries",
        "10",
        "--grace",
        "1",
    ]
    workers = Workers(server.url, namespace, workdir, options)
    try:
        for process in [workers.start() for _ in range(3)]:
            workers.wait_ready(process)
        return asyncio.run(drive(schedule, server, workers, namespace))
    finally:
        workers.stop_all()
        server.stop()
