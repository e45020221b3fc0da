"""What a Redis deployment is doing: addresses, their workers, pending and dead-lettered requests."""

from __future__ import annotations

import json
import time
from typing import Any

from pydantic import BaseModel

from ._redis_conn import Keys, RedisBusError, RedisTLS, connect, ping, redact
from ._redis_settings import RedisBusSettings

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
    late_answers: int = 0  # answers it wrote after another answer to the same request was first (ignored)
    dead_lettered: int = 0
    taken_from_dead: int = 0  # requests it took over from workers whose liveness key was gone
    settings: dict[str, Any] = {}  # the protocol settings it runs with (deadline, timeouts, attempts)


class DeploymentStatus(BaseModel):
    url: str
    namespace: str
    addresses: list[AddressStatus]
    workers: list[WorkerStatus]
    # What the workers run with (the first worker's, or the library's defaults when none runs).
    settings: dict[str, Any] = {}


def _defaults() -> dict[str, Any]:
    d = RedisBusSettings()
    return {
        "deadline": d.deadline,
        "visibility_timeout": d.visibility_timeout,
        "liveness": d.liveness_s,
        "max_deliveries": d.max_deliveries,
        "attempts": d.attempts,
    }


async def collect_status(url: str, *, namespace: str = "aiflows", tls: RedisTLS | None = None) -> DeploymentStatus:
    """Read (never write) what the deployment is doing.

    Raises:
        RedisBusError: Redis is unreachable, refused the credentials, or its user may not read the keys.
    """
    import redis.exceptions as rex

    client = connect(url, tls)
    try:
        await ping(client, url)
        return await _collect(client, url, Keys(namespace))
    except rex.NoPermissionError as exc:
        raise RedisBusError(
            f"the Redis user of {redact(url)} may not read the deployment's keys ({exc}); "
            f"`aiflows status` needs +@read and ~{namespace}:* in its ACL"
        ) from None
    finally:
        await client.aclose()


async def _collect(client: Any, url: str, keys: Keys) -> DeploymentStatus:
    import redis.exceptions as rex

    namespace = keys.ns
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
                consumers.append(ConsumerStatus(name=row["name"].decode(), pending=row["pending"], idle_ms=row["idle"]))
        except rex.NoPermissionError:
            raise
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
        if raw is None:  # gone: its registration expired (status only reads; the set is not cleaned here)
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
                late_answers=info.get("late_answers", 0),
                dead_lettered=info.get("dead_lettered", 0),
                taken_from_dead=info.get("taken_from_dead", 0),
                settings=info.get("settings") or {},
            )
        )
    settings = next((w.settings for w in workers if w.settings), None) or _defaults()
    return DeploymentStatus(
        url=redact(url), namespace=namespace, addresses=addresses, workers=workers, settings=settings
    )


def _seconds(value: Any) -> str:
    return "none" if value is None else f"{float(value):g} s"


def render_status(report: DeploymentStatus) -> None:
    """Print the status as tables; long addresses and worker ids fold onto more lines, never cut."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{report.url}[/] namespace [bold]{report.namespace}[/]")
    s = report.settings
    console.print(
        f"deadline {_seconds(s.get('deadline'))} (a call without one)  visibility timeout "
        f"{_seconds(s.get('visibility_timeout'))}  liveness {_seconds(s.get('liveness'))}  "
        f"max deliveries {s.get('max_deliveries')}  attempts {s.get('attempts')}",
        soft_wrap=False,
        overflow="fold",
    )
    table = Table()
    table.add_column("address", overflow="fold", ratio=3)
    for name in ("live", "queued", "pending", "lag", "dead"):
        table.add_column(name, no_wrap=True)
    table.add_column("consumers (pending, idle)", overflow="fold", ratio=2)
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
    workers = Table()
    workers.add_column("worker", overflow="fold", ratio=2)
    for name in ("host", "pid", "running", "late", "taken over", "seen"):
        workers.add_column(name, overflow="fold")
    workers.add_column("addresses", overflow="fold", ratio=3)
    for w in report.workers:
        workers.add_row(
            w.id,
            w.host,
            str(w.pid),
            str(w.running),
            str(w.late_answers),
            str(w.taken_from_dead),
            f"{w.seen_s_ago:.1f}s ago",
            ", ".join(w.addresses),
        )
    console.print(workers)
