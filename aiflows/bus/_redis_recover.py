"""Liveness and recovery for a worker's half of `RedisBus`.

Every tick a worker says it is alive (its key `{ns}:worker:{id}` lives `liveness` seconds) and
re-claims the requests it is still working on, so nobody takes them over. It also looks at who
holds the pending requests of its inboxes: a holder whose liveness key is gone, and stays gone a
few heartbeats (long enough for a live worker to say so again after Redis restarted), died or is
paused, and its requests are taken over at once rather than after the visibility timeout.
Less often (the cost grows with the number of served addresses) it refreshes the liveness of
its addresses and, as a fallback, takes over any request idle past the visibility timeout.
Requests delivered more than `max_deliveries` times are dead-lettered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from ._redis_conn import TRANSIENT, Keys
from ._redis_settings import RedisBusSettings

__all__ = ["Upkeep"]

log = logging.getLogger("aiflows.bus.redis")
GROUP = Keys.GROUP

Fields = dict[bytes, bytes]


class Upkeep:
    """A worker's periodic work: its heartbeat, its claims, and taking over others' requests.

    Args:
        client: redis-py.
        addresses: the addresses the worker serves (read as it grows).
        entries: address -> inbox entries being handled by the worker -> since when (monotonic).
        running: how many requests the worker is handling.
        free: how many more it can take now.
        start: handles a taken-over request (address, entry id, fields, deliveries).
        dead_letter: moves a request to the dead letters (address, entry id, raw, kind, text, deliveries).
        stats: figures the worker reports with its heartbeat (late answers, dead letters).
    """

    def __init__(
        self,
        client: Any,
        keys: Keys,
        settings: RedisBusSettings,
        consumer: str,
        *,
        addresses: Collection[str],
        entries: dict[str, dict[str, float]],
        running: Callable[[], int],
        free: Callable[[], int],
        start: Callable[[str, str, Fields, int], None],
        dead_letter: Callable[[str, str, bytes, str, str, int], Awaitable[object]],
        stats: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.stats = stats or dict
        self.suspects: dict[str, float] = {}  # holders of pending requests whose liveness key is gone -> since
        self.taken_from_dead = 0  # requests taken over from dead or paused workers
        self.client = client
        self.keys = keys
        self.settings = settings
        self.consumer = consumer
        self.addresses = addresses
        self.entries = entries
        self.running = running
        self.free = free
        self.start = start
        self.dead_letter = dead_letter
        self.started_at = time.time()

    def live_ttl(self) -> float:
        return max(3 * self.settings.heartbeat, self.settings.visibility_timeout)

    async def run(self) -> None:
        """Every tick: say this worker is alive and keep its running requests; less often (their cost
        grows with the number of served addresses): refresh the addresses' liveness and take over
        requests of silent workers."""
        s = self.settings
        tick = min(s.heartbeat, s.visibility_timeout / 3)
        last_live = last_reclaim = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            try:
                now = time.monotonic()
                await self.heartbeat(live=now - last_live >= self.live_ttl() / 3)
                if now - last_live >= self.live_ttl() / 3:
                    last_live = now
                await self._keep_claims()
                await self._take_from_dead()
                if now - last_reclaim >= s.visibility_timeout / 2:
                    last_reclaim = now
                    await self._reclaim()
            except TRANSIENT as exc:
                log.warning("worker maintenance skipped: redis unavailable (%s)", exc)
            except Exception:  # noqa: BLE001 - keep the worker alive and say what went wrong
                log.exception("worker maintenance failed; trying again at the next heartbeat")

    async def heartbeat(self, *, live: bool, addresses: list[str] | None = None) -> None:
        """Say the worker is alive; with `live`, that it serves `addresses` (default: all of its own)."""
        ttl_ms = int(self.live_ttl() * 1000)
        s = self.settings
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "addresses": sorted(self.addresses),
            "started_at": self.started_at,
            "seen_at": time.time(),
            "running": self.running(),
            "taken_from_dead": self.taken_from_dead,
            "settings": {
                "deadline": s.deadline,
                "visibility_timeout": s.visibility_timeout,
                "liveness": s.liveness_s,
                "max_deliveries": s.max_deliveries,
                "attempts": s.attempts,
            },
            **self.stats(),
        }
        pipe = self.client.pipeline(transaction=False)
        if live:
            served = addresses if addresses is not None else list(self.addresses)
            for address in served:
                pipe.set(self.keys.live(address), self.consumer, px=ttl_ms)
            if served:
                pipe.sadd(self.keys.addresses, *served)
        pipe.set(self.keys.worker(self.consumer), json.dumps(info), px=int(s.liveness_s * 1000))
        pipe.sadd(self.keys.workers, self.consumer)
        await pipe.execute()

    async def _keep_claims(self) -> None:
        """Re-claim requests still running here so their idle time never reaches the visibility timeout."""
        old = time.monotonic() - self.settings.visibility_timeout / 3
        for address, entries in self.entries.items():
            ids = [entry for entry, since in entries.items() if since < old]
            if ids:
                await self.client.xclaim(self.keys.inbox(address), GROUP, self.consumer, 0, ids, justid=True)

    async def _take_from_dead(self) -> None:
        """Take over the pending requests of workers whose liveness key is gone (dead or paused)."""
        free = self.free()
        addresses = list(self.addresses)
        if free <= 0 or not addresses:
            return
        pipe = self.client.pipeline(transaction=False)
        for address in addresses:  # one round trip: who holds what in every inbox served here
            pipe.xpending(self.keys.inbox(address), GROUP)
        holders: dict[str, list[str]] = {}
        for address, summary in zip(addresses, await pipe.execute(raise_on_error=False), strict=True):
            if isinstance(summary, Exception):
                continue  # no group yet (Redis lost it): the inbox reads make it again
            for row in summary.get("consumers") or ():
                name = row["name"].decode() if isinstance(row["name"], bytes) else str(row["name"])
                if name != self.consumer and int(row["pending"]):
                    holders.setdefault(name, []).append(address)
        if not holders:
            self.suspects.clear()
            return
        names = sorted(holders)
        alive = await self.client.mget([self.keys.worker(name) for name in names])
        now = time.monotonic()
        confirm = max(3 * self.settings.heartbeat, self.settings.liveness_s / 2)
        for name in list(self.suspects):
            if name not in holders:
                del self.suspects[name]
        for name, seen in zip(names, alive, strict=True):
            if seen is not None:
                self.suspects.pop(name, None)
                continue
            if now - self.suspects.setdefault(name, now) < confirm:
                continue  # gone just now: maybe Redis restarted and it has not said so again yet
            for address in holders[name]:
                await self._claim_from(address, name, free)

    async def _claim_from(self, address: str, holder: str, count: int) -> None:
        key = self.keys.inbox(address)
        rows = await self.client.xpending_range(key, GROUP, "-", "+", min(count, 100), consumername=holder)
        ids = [row["message_id"] for row in rows]
        if not ids:
            return
        # Only entries idle a while: when two workers see the same dead holder, the first claim resets
        # the idle time and the second finds nothing to take.
        min_idle = int(self.settings.liveness_s * 500)
        claimed = await self.client.xclaim(key, GROUP, self.consumer, min_idle, ids)
        taken = [(eid.decode(), fields) for eid, fields in claimed if fields]
        if taken:
            self.taken_from_dead += len(taken)
            log.warning("worker %s is gone: taking over %d of its requests on %s", holder, len(taken), address)
            await self._take_over(address, taken)

    async def _reclaim(self) -> None:
        """Take over requests whose worker went silent; dead-letter those that killed workers too often."""
        free = self.free()
        if free <= 0:
            return
        addresses = list(self.addresses)
        pipe = self.client.pipeline(transaction=False)
        for address in addresses:  # one round trip for every inbox this worker serves
            pipe.xautoclaim(
                self.keys.inbox(address),
                GROUP,
                self.consumer,
                int(self.settings.visibility_timeout * 1000),
                "0-0",
                count=min(free, 100),
            )
        for address, (_cursor, claimed, *_deleted) in zip(addresses, await pipe.execute(), strict=True):
            claimed = [(eid.decode(), fields) for eid, fields in claimed if fields]
            if claimed:
                await self._take_over(address, claimed)

    async def _take_over(self, address: str, claimed: list[tuple[str, Fields]]) -> None:
        key = self.keys.inbox(address)
        counts = {
            row["message_id"].decode(): row["times_delivered"]
            for row in await self.client.xpending_range(
                key, GROUP, claimed[0][0], claimed[-1][0], len(claimed) + 100, consumername=self.consumer
            )
        }
        for entry_id, fields in claimed:
            if entry_id in self.entries[address]:
                continue  # still being handled here (a busy event loop kept the claim from being renewed)
            deliveries = counts.get(entry_id, 2)
            if deliveries > self.settings.max_deliveries:
                text = (
                    f"the request was delivered {deliveries - 1} times and its worker stopped each time "
                    f"(max_deliveries={self.settings.max_deliveries})"
                )
                self.entries[address][entry_id] = time.monotonic()
                try:
                    await self.dead_letter(address, entry_id, fields.get(b"m", b""), "WorkerCrashed", text, deliveries)
                finally:
                    self.entries[address].pop(entry_id, None)
            else:
                log.warning("took over request %s on %s (delivery %d)", entry_id, address, deliveries)
                self.start(address, entry_id, fields, deliveries)
