"""The asynchronous half of `chaos_support.run_chaos`: the client, the fault schedule, and the audit."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import time
from collections import Counter
from typing import Any

from chaos_support import POISON, ChaosReport, RedisProcess, Schedule, Workers, digest

from aiflows import Runtime
from aiflows.bus._redis_status import collect_status
from aiflows.bus.deadline import within
from aiflows.bus.redis import RedisBus
from aiflows.messages import Message
from aiflows.records import RunResult
from aiflows.runtime.store.redis import RedisStore


async def drive(schedule: Schedule, server: RedisProcess, workers: Workers, ns: str) -> ChaosReport:
    report = ChaosReport(sent=schedule.requests)
    url = server.url
    key = f"{ns}:executions"
    started = time.monotonic()
    results: dict[int, tuple[RunResult, str]] = {}
    poison_ids: list[str] = []
    async with Runtime(bus=RedisBus(url, namespace=ns), store=RedisStore(url, namespace=ns)) as rt:

        async def one(i: int, sem: asyncio.Semaphore) -> None:
            text = f"payload {i} {random.Random(i).getrandbits(64):x}"
            data = {"url": url, "key": key, "i": i, "text": text, "work_s": schedule.work_s}
            async with sem:
                t = time.perf_counter()
                try:
                    async with within(schedule.hang_s):
                        result = await rt.run("work", data)
                except TimeoutError:
                    report.hung.append(i)
                    return
                report.latencies_ms.append((time.perf_counter() - t) * 1000)
            results[i] = (result, text)

        async def client() -> None:
            sem = asyncio.Semaphore(schedule.concurrency)
            interval = schedule.duration_s() / schedule.requests  # the requests span the whole schedule
            t0 = time.monotonic()
            async with asyncio.TaskGroup() as group:
                for i in range(schedule.requests):
                    await asyncio.sleep(max(0.0, t0 + i * interval - time.monotonic()))
                    group.create_task(one(i, sem))

        async def faults() -> None:
            rng = random.Random(schedule.seed)
            counts: Counter[str] = Counter()
            for event in schedule.events():
                await asyncio.sleep(schedule.spacing_s)
                if event == "kill":
                    victim = rng.choice(workers.live())
                    victim.send_signal(signal.SIGKILL)
                    await asyncio.to_thread(victim.wait)
                    workers.start()  # a new worker, as a supervisor would start one
                elif event.startswith("redis-"):
                    how = signal.SIGKILL if event == "redis-kill" else signal.SIGTERM
                    await asyncio.to_thread(server.stop, how)
                    await asyncio.to_thread(server.start)
                elif event == "stop":  # paused past the visibility timeout, then continued
                    victim = rng.choice(workers.live())
                    victim.send_signal(signal.SIGSTOP)
                    await asyncio.sleep(schedule.visibility_timeout + 1)
                    victim.send_signal(signal.SIGCONT)
                elif event == "poison":
                    poison_ids.append(await _poison(url, ns, len(poison_ids)))
                counts[event] += 1
            report.faults = dict(counts)

        await asyncio.gather(client(), faults())
        report.wall_s = time.monotonic() - started
        await _audit(rt, report, results, url, ns, key, poison_ids)
    return report


async def _poison(url: str, ns: str, index: int) -> str:
    import redis.asyncio as aioredis

    fields = dict(POISON[index % len(POISON)])
    if fields.get("m") == "":
        request = Message.request(sender="chaos", recipient="work", data={}, run_id=f"poison-{index}")
        fields["m"] = request.to_json()
    client = aioredis.Redis.from_url(url)
    try:
        return (await client.xadd(f"{ns}:in:work", fields)).decode()  # type: ignore[arg-type]
    finally:
        await client.aclose()


def _ms(entry_id: str) -> int:
    return int(entry_id.split("-")[0])


async def _audit(
    rt: Runtime,
    report: ChaosReport,
    results: dict[int, tuple[RunResult, str]],
    url: str,
    ns: str,
    key: str,
    poison_ids: list[str],
) -> None:
    """Compare what each caller received with what was expected and with what the run remembers."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        done: dict[str, list[Any]] = {}
        async for name in client.scan_iter(match=f"{ns}:done:*", count=1000):
            raw = await client.get(name)
            if raw:
                answer = json.loads(raw)
                done.setdefault(answer.get("run_id", ""), []).append(answer.get("data"))
        for i in range(report.sent):
            if i in report.hung:
                continue
            if i not in results:
                report.lost.append(i)
                continue
            result, text = results[i]
            report.answered += 1
            output = result.output or {}
            if result.status != "done" or output.get("digest") != digest(i, text) or output.get("i") != i:
                report.wrong.append(i)
                continue
            record = await rt.store.get_run(result.run_id)
            spans = [json.loads(row) for row in await client.lrange(f"{ns}:spans:{result.run_id}", 0, -1)]
            remembered = (
                record is not None
                and record.output == output
                and done.get(result.run_id) == [output]
                and [span["output"] for span in spans] == [output]
            )
            if not remembered:
                report.misremembered.append(i)
        counts = {int(k): int(v) for k, v in (await client.hgetall(key)).items()}
        report.executions = sum(counts.values())
        report.duplicates = sum(c - 1 for c in counts.values() if c > 1)
        report.unexecuted = [i for i in results if counts.get(i, 0) == 0]
        dead = {
            fields[b"entry"].decode(): entry_id.decode()
            for entry_id, fields in await client.xrange(f"{ns}:dead:work")
            if b"entry" in fields
        }
        report.poison_sent = len(poison_ids)
        report.poison_dead_ms = [float(_ms(dead[p]) - _ms(p)) if p in dead else float("inf") for p in poison_ids]
    finally:
        await client.aclose()
    status = await collect_status(url, namespace=ns)
    report.late_answers = sum(w.late_answers for w in status.workers)
    report.taken_from_dead = sum(w.taken_from_dead for w in status.workers)
