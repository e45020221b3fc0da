"""What a Redis deployment is doing: addresses, their workers, pending and dead-lettered requests."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel

from ._redis_conn import Keys, RedisTLS, connect, ping

__all__ = ["AddressStatus", "ConsumerStatus", "DeploymentStatus", "WorkerStatus", "collect_status", "render_status"]


class ConsumerStatus(BaseModel):
    name: str
    pending: int  # requests delivered to it and not acknowledged yet
    idle_ms: int  # since it last read or acknowledged anything


class AddressStatus(BaseModel):
    address: str
    queued: int  # entries in the inbox (waiting or being handled)
    pending: int  # delivered, not acknowledged
    lag: int | None  # not delivered to anyone yet
    dead: int  # in the dead-letter stream
    live: bool  # a worker said it serves this address recently
    consumers: list[ConsumerStatus]


class WorkerStatus(BaseModel):
    id: str
    host: str
    pid: int
    addresses: list[str]
    running: int
    seen_s_ago: float


class DeploymentStatus(BaseModel):
    url: str
    namespace: str
    addresses: list[AddressStatus]
    workers: list[WorkerStatus]


async def collect_status(url: str, *, namespace: str = "aiflows", tls: RedisTLS | None = None) -> DeploymentStatus:
    import redis.exceptions as rex

    from ._redis_conn import redact

    keys = Keys(namespace)
    client = connect(url, tls)
    try:
        await ping(client, url)
        names = {m.decode() for m in await client.smembers(keys.addresses)}
        async for key in client.scan_iter(match=f"{keys.ns}:in:*", count=500):
            names.add(keys.address_of(key.decode()))
        addresses = []
        for address in sorted(names):
            inbox = keys.inbox(address)
            queued = await client.xlen(inbox)
            dead = await client.xlen(keys.dead(address))
            pending, lag, consumers = 0, None, []
            try:
                for group in await client.xinfo_groups(inbox):
                    if group["name"].decode() == Keys.GROUP:
                        pending, lag = int(group["pending"]), group.get("lag")
                for row in await client.xinfo_consumers(inbox, Keys.GROUP):
                    consumers.append(
                        ConsumerStatus(name=row["name"].decode(), pending=row["pending"], idle_ms=row["idle"])
                    )
            except rex.ResponseError:  # no such stream or group: nobody serves it any more
                pass
            live = bool(await client.exists(keys.live(address)))
            addresses.append(
                AddressStatus(
                    address=address, queued=queued, pending=pending, lag=lag, dead=dead, live=live, consumers=consumers
                )
            )
        workers = []
        now = time.time()
        for worker_id in sorted(m.decode() for m in await client.smembers(keys.workers)):
            raw = await client.get(keys.worker(worker_id))
            if raw is None:  # gone: its registration expired
                await client.srem(keys.workers, worker_id)
                continue
            info: dict[str, Any] = json.loads(raw)
            workers.append(
                WorkerStatus(
                    id=worker_id,
                    host=info["host"],
                    pid=info["pid"],
                    addresses=info["addresses"],
                    running=info.get("running", 0),
                    seen_s_ago=round(now - info["seen_at"], 3),
                )
            )
        return DeploymentStatus(url=redact(url), namespace=namespace, addresses=addresses, workers=workers)
    finally:
        await client.aclose()


def render_status(report: DeploymentStatus) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{report.url}[/] namespace [bold]{report.namespace}[/]")
    table = Table("address", "live", "queued", "pending", "lag", "dead", "consumers (pending, idle)")
    for a in report.addresses:
        consumers = ", ".join(f"{c.name} ({c.pending}, {c.idle_ms / 1000:.1f}s)" for c in a.consumers) or "-"
        table.add_row(
            a.address,
            "yes" if a.live else "no",
            str(a.queued),
            str(a.pending),
            "-" if a.lag is None else str(a.lag),
            str(a.dead),
            consumers,
        )
    console.print(table)
    workers = Table("worker", "host", "pid", "running", "seen", "addresses")
    for w in report.workers:
        workers.add_row(w.id, w.host, str(w.pid), str(w.running), f"{w.seen_s_ago:.1f}s ago", ", ".join(w.addresses))
    console.print(workers)
