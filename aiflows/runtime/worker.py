"""A worker: one process serving a flow (and, unless told otherwise, its subflows) over Redis.

    aiflows serve examples.custom_composite:write_review --redis redis://localhost:6379/0
    aiflows serve examples.custom_composite:write_review --redis URL --only 'write_review'      # the composite here
    aiflows serve examples.custom_composite:write_review --redis URL --only 'write_review/*'    # its subflows there

Start as many workers for the same address as you like: they share its inbox (a consumer group),
and a worker that dies leaves its requests to the others.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..bus._redis_conn import RedisTLS
from ..bus._redis_settings import RedisBusSettings
from ..bus.redis import RedisBus
from ..exceptions import ConfigError
from ..flow import Flow
from .runtime import Runtime
from .store.redis import RedisStore

log = logging.getLogger("aiflows.worker")

__all__ = ["Service", "Worker", "address_filter"]

Service = Callable[[Runtime], Awaitable[None]]
"""Background work a worker runs beside its flows until it stops (e.g. resuming runs a person answered)."""


def address_filter(only: Sequence[str], exclude: Sequence[str]) -> Callable[[str], bool] | None:
    """Which addresses this worker serves: glob patterns, `only` first, then `exclude`."""
    if not only and not exclude:
        return None

    def accept(address: str) -> bool:
        if only and not any(fnmatch.fnmatchcase(address, p) for p in only):
            return False
        return not any(fnmatch.fnmatchcase(address, p) for p in exclude)

    return accept


class Worker:
    """Hosts `flow` at `address` on a `RedisBus`, with a `RedisStore` on the same Redis.

    Args:
        flow: the flow to serve; its subflow tree is served under its address.
        url: the Redis URL.
        address: where to serve it (default: the flow's name).
        only / exclude: glob patterns of the addresses this worker serves (the rest are called, not served).
        settings / tls / overrides: passed to `RedisBus`.
        services: background work run beside the flows, each started again (with backoff) if it fails;
            the CLI passes the human-answer resumer here, so no separate resumer process is needed.
    """

    def __init__(
        self,
        flow: Flow,
        *,
        url: str,
        address: str | None = None,
        only: Sequence[str] = (),
        exclude: Sequence[str] = (),
        settings: RedisBusSettings | None = None,
        tls: RedisTLS | dict[str, Any] | None = None,
        grace: float = 10.0,
        services: Sequence[Service] = (),
        **overrides: Any,
    ) -> None:
        self.flow = flow
        self.address = address or flow.name
        self.grace = grace
        self.services = tuple(services)
        self.bus = RedisBus(url, settings=settings, tls=tls, accept=address_filter(only, exclude), **overrides)
        self.store = RedisStore(url, namespace=self.bus.keys.ns, tls=tls)

    async def _serve_until(self, stop: asyncio.Event, runtime: Runtime) -> None:
        """Run the services until `stop` is set."""
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(_keep_running(service, runtime), name=f"worker:service-{index}")
                for index, service in enumerate(self.services)
            ]
            await stop.wait()
            for task in tasks:
                task.cancel()

    async def run(self, stop: asyncio.Event | None = None, ready: Callable[[list[str]], None] | None = None) -> None:
        """Serve until `stop` is set (or SIGTERM/SIGINT), then finish running requests and leave."""
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
        runtime = Runtime(bus=self.bus, store=self.store)
        await runtime.open()
        try:
            await runtime.host(self.flow, self.address)
            served = self.bus.serving()
            if not served:
                raise ConfigError(f"--only/--exclude leave nothing of '{self.address}' to serve here")
            if ready is not None:
                ready(served)
            if self.services:
                await self._serve_until(stop, runtime)
            else:
                await stop.wait()
        finally:
            await self.bus.close(self.grace)
            await runtime.close()


async def _keep_running(service: Service, runtime: Runtime) -> None:
    """Run `service` until it returns or is cancelled, starting it again with backoff when it fails (Redis away)."""
    delay = 0.1
    while True:
        try:
            await service(runtime)
            return
        except Exception as exc:  # noqa: BLE001 - serving goes on, so must this
            log.warning("a worker service stopped (%s); starting again in %.1f s", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
