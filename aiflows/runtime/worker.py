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
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..bus._redis_conn import RedisTLS
from ..bus._redis_settings import RedisBusSettings
from ..exceptions import ConfigError
from ..flow import Flow, FunctionFlow

log = logging.getLogger("aiflows.worker")

__all__ = ["Worker", "load_target"]


def load_target(target: str) -> Flow:
    """The flow a command line names: `path/to/flow.yaml`, or `module:attribute` (a Flow, Flow class or function)."""
    from ..loader import import_object, load_flow

    if target.endswith((".yaml", ".yml")) or Path(target).is_file():
        return load_flow(target)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    obj = import_object(target, file="<command line>", key="target")
    if isinstance(obj, Flow):
        return obj
    if isinstance(obj, type) and issubclass(obj, Flow):
        return obj()
    if callable(obj):
        return FunctionFlow(obj)
    raise ConfigError(f"'{target}' is not a Flow, a Flow class or a function", key="target")


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
        resume_humans: bool = True,
        **overrides: Any,
    ) -> None:
        from ..bus.redis import RedisBus
        from .store.redis import RedisStore

        self.flow = flow
        self.address = address or flow.name
        self.grace = grace
        self.resume_humans = resume_humans
        self.bus = RedisBus(url, settings=settings, tls=tls, accept=address_filter(only, exclude), **overrides)
        self.store = RedisStore(url, namespace=self.bus.keys.ns, tls=tls)

    async def _serve_until(self, stop: asyncio.Event, runtime: Any) -> None:
        """Also resume runs whose questions to a person were answered, so no separate resumer is needed."""
        from ..human import HumanDesk

        async def resume_forever() -> None:
            delay = 0.1
            while True:
                try:
                    await HumanDesk(runtime).serve()
                except Exception as exc:  # noqa: BLE001 - Redis away for a while: serving goes on, so must this
                    log.warning("the human-answer resumer stopped (%s); starting again in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)

        async with asyncio.TaskGroup() as group:
            desk = group.create_task(resume_forever(), name="worker:human-resumer")
            await stop.wait()
            desk.cancel()

    async def run(self, stop: asyncio.Event | None = None, ready: Callable[[list[str]], None] | None = None) -> None:
        """Serve until `stop` is set (or SIGTERM/SIGINT), then finish running requests and leave."""
        from .runtime import Runtime

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
            if self.resume_humans:
                await self._serve_until(stop, runtime)
            else:
                await stop.wait()
        finally:
            await self.bus.close(self.grace)
            await runtime.close()
