"""Redis transport against its floor: a raw redis-py request/reply over streams, side by side.

    python benchmarks/redis_bus.py                    # a throwaway redis-server on a free port
    python benchmarks/redis_bus.py --redis redis://127.0.0.1:6379/0 --n 2000 --soak 100000

Measures, in one run against one redis-server:
  * request/reply latency (p50, p99) of a no-op flow served by an `aiflows serve` worker process,
    through `Runtime.call` (bus + RedisStore) and through the bus alone, vs the raw floor
    (XADD + XREADGROUP + reply stream XADD/XACK + XREAD, one worker process), in interleaved rounds;
  * throughput with 64 requests in flight, 1 worker vs 2 workers;
  * a 1000-step Sequential chain of served no-op flows (time per step);
  * a soak of --soak requests: Redis used_memory and stream lengths before and after;
  * the latency under the chaos test's fault schedule (tests/chaos: workers SIGKILLed and restarted,
    redis-server restarted twice, a worker paused past the visibility timeout, poison), with
    workers that take over a dead worker's requests once its liveness key (0.5 s here) is gone.
The ratios are the median over rounds of each round's p50 over the raw floor's p50 in that round
(the order of the three alternates from round to round).
Last line: RESULT key=value ...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aiflows import AtomicFlow, Sequential  # noqa: E402


class Noop(AtomicFlow):
    async def handle(self, ctx, data):
        return {}


noop = Noop(name="noop")
chain = Sequential(*[Noop(name=f"n{i}") for i in range(1000)], name="chain")

RAW_WORKER = r"""
import sys, redis
r = redis.Redis.from_url(sys.argv[1])
try:
    r.xgroup_create("raw:in", "g", id="$", mkstream=True)
except redis.ResponseError:
    pass
print("ready", flush=True)
while True:
    resp = r.xreadgroup("g", "c", {"raw:in": ">"}, count=64, block=1000)
    for _s, entries in resp or ():
        pipe = r.pipeline(transaction=False)
        for eid, fields in entries:
            pipe.xadd(b"raw:reply:" + fields[b"c"], {"m": fields[b"m"]}, maxlen=1000, approximate=True)
            pipe.xack("raw:in", "g", eid)
        pipe.execute()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def round_ratios(lat: dict[str, list[list[float]]], name: str) -> list[float]:
    """Each round's p50 of `name` over the raw floor's p50 in the same round: rounds are short, so
    both saw the same load on the machine."""
    return [pct(ours, 0.5) / pct(raw, 0.5) for ours, raw in zip(lat[name], lat["raw"], strict=True)]


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO), str(Path(__file__).resolve().parent), e.get("PYTHONPATH", "")])
    return e


def start_worker(url: str, ns: str, target: str, *extra: str) -> subprocess.Popen[str]:
    # No stdin or stdout of ours: a worker left behind must not hold the pipe this script writes to.
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiflows.cli", "serve", target, "--redis", url, "--namespace", ns, *extra],
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if not line.startswith("serving"):
        raise RuntimeError(f"worker failed: {line}{proc.stderr.read()}")
    return proc


class RawCaller:
    """The floor: a raw redis-py request/reply over streams, against the RAW_WORKER process."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self.client = aioredis.Redis.from_url(url)
        self.last = "0-0"

    async def call(self) -> None:
        await self.client.xadd("raw:in", {"m": '{"v":1,"id":"x","kind":"request","data":{}}', "c": "me"})
        while True:
            resp = await self.client.xread({"raw:reply:me": self.last}, block=1000)
            if resp:
                self.last = resp[0][1][-1][0]
                return


async def latency(url: str, n: int, rounds: int = 60) -> dict[str, list[list[float]]]:
    """Raw floor, Runtime.call and the bus alone, measured in interleaved rounds so that a change in
    the machine's load in the middle of the run touches all three alike. Samples come per round."""
    from aiflows import Runtime
    from aiflows.bus.redis import RedisBus
    from aiflows.messages import Message
    from aiflows.runtime.store.redis import RedisStore

    raw_worker = subprocess.Popen([sys.executable, "-c", RAW_WORKER, url], stdout=subprocess.PIPE, text=True)
    assert raw_worker.stdout is not None
    raw_worker.stdout.readline()
    worker = start_worker(url, "lat", "redis_bus:noop")
    raw = RawCaller(url)
    samples: dict[str, list[list[float]]] = {"raw": [], "rt": [], "bus": []}
    try:
        async with Runtime(bus=RedisBus(url, namespace="lat"), store=RedisStore(url, namespace="lat")) as rt:

            def bus_call() -> Any:
                return rt.bus.request(
                    Message.request(sender="bench", recipient="noop", data={}, run_id="bench", path="/0")
                )

            calls = {"raw": raw.call, "rt": lambda: rt.call("noop", {}), "bus": bus_call}
            for call in calls.values():  # warm up
                for _ in range(200):
                    await call()
            for round_ in range(rounds):
                order = list(calls.items())
                for name, call in order if round_ % 2 == 0 else order[::-1]:  # neither always goes first
                    times = []
                    for _ in range(max(1, n // rounds)):
                        t = time.perf_counter()
                        await call()
                        times.append((time.perf_counter() - t) * 1e6)
                    samples[name].append(times)
    finally:
        raw_worker.kill()
        worker.terminate()
        worker.wait()
        await raw.client.aclose()
    return samples


async def ours(url: str, soak: int) -> dict[str, float]:
    import redis.asyncio as aioredis

    from aiflows import Runtime
    from aiflows.bus.redis import RedisBus
    from aiflows.messages import Message
    from aiflows.runtime.store.redis import RedisStore

    results: dict[str, float] = {}
    ns = "bench"
    w1 = start_worker(url, ns, "redis_bus:noop")
    try:
        async with Runtime(bus=RedisBus(url, namespace=ns), store=RedisStore(url, namespace=ns)) as rt:
            for _ in range(200):
                await rt.call("noop", {})

            async def inflight(total: int) -> float:
                sem = asyncio.Semaphore(64)

                async def one() -> None:
                    async with sem:
                        await rt.call("noop", {})

                t = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(total)))
                return total / (time.perf_counter() - t)

            results["inflight64_rps_1w"] = await inflight(3000)
            w2 = start_worker(url, ns, "redis_bus:noop")
            try:
                await asyncio.sleep(0.5)
                results["inflight64_rps_2w"] = await inflight(3000)
            finally:
                w2.terminate()
                w2.wait()
    finally:
        w1.terminate()
        w1.wait()

    wc = start_worker(url, "benchchain", "redis_bus:chain")
    try:
        async with Runtime(
            bus=RedisBus(url, namespace="benchchain"), store=RedisStore(url, namespace="benchchain")
        ) as rt:
            await rt.call("chain", {})
            t = time.perf_counter()
            await rt.call("chain", {})
            results["chain1000_ms"] = (time.perf_counter() - t) * 1e3
            results["chain_step_us"] = results["chain1000_ms"] * 1000 / 1000
    finally:
        wc.terminate()
        wc.wait()

    if soak:
        client = aioredis.Redis.from_url(url)
        ws = start_worker(url, "soak", "redis_bus:noop", "--processed-ttl", "5")
        try:
            async with Runtime(bus=RedisBus(url, namespace="soak"), store=RedisStore(url, namespace="soak")) as rt:
                await rt.call("noop", {})
                bus = rt.bus
                before = (await client.info("memory"))["used_memory"]
                sem = asyncio.Semaphore(64)

                async def one(i: int) -> None:
                    async with sem:
                        await bus.request(
                            Message.request(sender="soak", recipient="noop", data={"i": i}, run_id="soak", path="/0")
                        )

                t = time.perf_counter()
                await asyncio.gather(*(one(i) for i in range(soak)))
                results["soak_rps"] = soak / (time.perf_counter() - t)
                results["soak_inbox_len"] = await client.xlen("soak:in:noop")
                results["soak_reply_len"] = await client.xlen(f"soak:reply:{bus.client_id}")
                for _ in range(60):  # the remembered answers (processed_ttl=5 s here) expire
                    await asyncio.sleep(0.5)
                    if not [k async for k in client.scan_iter(match="soak:done:*", count=5000)]:
                        break
                results["soak_mem_with_trace_kb"] = (await client.info("memory"))["used_memory"] / 1024
                await client.delete("soak:spans:soak", "soak:events:soak")  # the run's trace: kept by design (ttl)
                after = (await client.info("memory"))["used_memory"]
                results["soak_mem_before_kb"], results["soak_mem_after_kb"] = before / 1024, after / 1024
        finally:
            ws.terminate()
            ws.wait()
            await client.aclose()
    return results


def chaos(requests: int) -> Any:
    """The chaos test's schedule, measured: its report (latencies of every request, faults and all)."""
    sys.path.insert(0, str(REPO / "tests" / "chaos"))
    from chaos_support import Schedule, run_chaos

    workdir = Path(tempfile.mkdtemp(prefix="aiflows-chaos-"))
    try:
        return run_chaos(Schedule(requests=requests, heartbeat=0.1, liveness=0.5), workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", default=None, help="use this Redis instead of a throwaway redis-server")
    parser.add_argument("--n", type=int, default=6000, help="sequential requests per latency measurement")
    parser.add_argument("--rounds", type=int, default=60, help="interleaved rounds the latency requests are split into")
    parser.add_argument("--soak", type=int, default=100_000, help="requests in the memory soak (0: skip)")
    parser.add_argument(
        "--chaos", type=int, default=1000, help="requests sent under the chaos schedule (0: skip; about 45 s)"
    )
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped from outside: the finally blocks stop the workers
    server = None
    url = args.redis
    if url is None:
        if shutil.which("redis-server") is None:
            sys.exit("redis-server is not installed; pass --redis URL")
        port = free_port()
        workdir = tempfile.mkdtemp(prefix="aiflows-bench-")
        server = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
            ],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.3)
        url = f"redis://127.0.0.1:{port}/0"
    try:
        lat = asyncio.run(latency(url, args.n, args.rounds))
        r = asyncio.run(ours(url, args.soak))
    finally:
        if server is not None:
            server.terminate()
            server.wait()
            shutil.rmtree(workdir, ignore_errors=True)
    report = chaos(args.chaos) if args.chaos else None
    pooled = {name: [t for round_ in rounds for t in round_] for name, rounds in lat.items()}
    raw50, raw99 = pct(pooled["raw"], 0.5), pct(pooled["raw"], 0.99)
    r["rt_p50_us"], r["rt_p99_us"] = pct(pooled["rt"], 0.5), pct(pooled["rt"], 0.99)
    r["bus_p50_us"], r["bus_p99_us"] = pct(pooled["bus"], 0.5), pct(pooled["bus"], 0.99)
    rt_ratios, bus_ratios = round_ratios(lat, "rt"), round_ratios(lat, "bus")
    print(f"raw redis-py request/reply: p50 {raw50:.0f} us  p99 {raw99:.0f} us")
    print(
        f"aiflows Runtime.call:       p50 {r['rt_p50_us']:.0f} us  p99 {r['rt_p99_us']:.0f} us  "
        f"({pct(rt_ratios, 0.5):.2f}x raw; rounds {min(rt_ratios):.2f}-{max(rt_ratios):.2f})"
    )
    print(
        f"aiflows RedisBus.request:   p50 {r['bus_p50_us']:.0f} us  p99 {r['bus_p99_us']:.0f} us  "
        f"({pct(bus_ratios, 0.5):.2f}x raw; rounds {min(bus_ratios):.2f}-{max(bus_ratios):.2f})"
    )
    print(f"64 in flight: {r['inflight64_rps_1w']:.0f} req/s with 1 worker, {r['inflight64_rps_2w']:.0f} with 2")
    print(f"1000-step chain: {r['chain1000_ms']:.0f} ms ({r['chain_step_us']:.0f} us per step)")
    if "soak_rps" in r:
        print(
            f"soak of {args.soak}: {r['soak_rps']:.0f} req/s; used_memory {r['soak_mem_before_kb']:.0f} KiB -> "
            f"{r['soak_mem_after_kb']:.0f} KiB without the run's trace ({r['soak_mem_with_trace_kb']:.0f} KiB with it); inbox length {r['soak_inbox_len']:.0f}, "
            f"event stream length {r['soak_reply_len']:.0f}"
        )
    if report is not None:
        print(
            f"under chaos ({report.sent} requests, faults {report.faults}): p50 {report.pct(0.5):.0f} ms  "
            f"p99 {report.pct(0.99):.0f} ms  max {max(report.latencies_ms, default=0):.0f} ms; lost "
            f"{len(report.lost)}, wrong {len(report.wrong)}, hung {len(report.hung)}, duplicates {report.duplicates}"
        )
    fields = {
        "rr_p50_us": r["rt_p50_us"],
        "raw_p50_us": raw50,
        "ratio_p50": pct(rt_ratios, 0.5),
        "rr_p99_us": r["rt_p99_us"],
        "bus_p50_us": r["bus_p50_us"],
        "bus_ratio_p50": pct(bus_ratios, 0.5),
        "inflight64_rps_1w": r["inflight64_rps_1w"],
        "inflight64_rps_2w": r["inflight64_rps_2w"],
        "chain1000_ms": r["chain1000_ms"],
    }
    if report is not None:
        fields.update(chaos_p50_ms=report.pct(0.5), chaos_p99_ms=report.pct(0.99))
    if "soak_rps" in r:
        fields.update(soak_mem_before_kb=r["soak_mem_before_kb"], soak_mem_after_kb=r["soak_mem_after_kb"])
    print("RESULT " + " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
