"""Writing events towards the callers that wait for them, in batches, behind the request's work.

An event goes to its caller's reply stream and channel by the `EMIT` script. Events published
while a batch is being written wait for the next one; an answer is written only after the events
before it (`drain`), so a caller sees a request's events before its answer.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from ..messages import Message
from ._redis_conn import Keys, retrying
from ._redis_scripts import EMIT, Scripts
from ._redis_settings import RedisBusSettings

__all__ = ["EventWriter"]


class EventWriter:
    """Events on their way to reply streams, written by one task at a time over the lean connection."""

    def __init__(self, fast: Any, scripts: Scripts, keys: Keys, settings: RedisBusSettings) -> None:
        self.fast = fast
        self.scripts = scripts
        self.keys = keys
        self.settings = settings
        self._events: list[tuple[str, bytes | str]] = []
        self._task: asyncio.Task[None] | None = None

    def write(self, reply_key: str, event: Message) -> None:
        """Queue `event` for the reply stream `reply_key`; a task writes it soon."""
        self._events.append((reply_key, event.to_wire()))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush(), name="redisbus:events")

    async def _flush(self) -> None:
        while self._events:
            batch, self._events = self._events, []
            keys = [k for key, _ in batch for k in (key, self.keys.notify_of(key))]
            args: list[Any] = [self.settings.reply_maxlen, int(self.settings.reply_ttl), *(raw for _, raw in batch)]
            await retrying(
                partial(self.scripts.run, self.fast, EMIT, keys, args),
                what="writing events",
                closed=lambda: False,
                backoff_max=self.settings.backoff_max,
            )

    async def drain(self) -> None:
        """Wait until every event queued so far is in Redis."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
