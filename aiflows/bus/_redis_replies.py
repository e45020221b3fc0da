"""Hearing answers and events on a client's channel, and catching up on what it missed.

Answers are published as their JSON alone and kept under `{ns}:done:{request}`; events are
published as "stream-id json" and also kept in the client's reply stream. After every
(re)subscription the reader takes the answers of waiting requests from their `done` keys and
the events it missed from the stream, so a dropped connection loses nothing, and each event is
passed on once, whether it was heard, read, or both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from ._redis_conn import TRANSIENT, Keys
from ._resp import fields_of

__all__ = ["ReplyReader"]

log = logging.getLogger("aiflows.bus.redis")


class ReplyReader:
    """The reading end of one client's channel and reply stream.

    Args:
        subscriber: a lean connection of its own, subscribed to the channel.
        fast: the lean connection for the catch-up reads and trims.
        waiting: the ids of the requests waiting for an answer.
        dispatch: takes an answer or event as JSON (None when a `done` key was empty).
        spawn: runs a coroutine in a task the bus waits for on close.
    """

    def __init__(
        self,
        subscriber: Any,
        fast: Any,
        keys: Keys,
        client_id: str,
        *,
        backoff_max: float,
        closed: Callable[[], bool],
        waiting: Callable[[], Iterable[str]],
        dispatch: Callable[[bytes | None], None],
        spawn: Callable[[Any, str], None],
    ) -> None:
        self.subscriber = subscriber
        self.fast = fast
        self.keys = keys
        self.stream = keys.reply(client_id)
        self.channel = keys.notify(client_id)
        self.backoff_max = backoff_max
        self.closed = closed
        self.waiting = waiting
        self.dispatch = dispatch
        self.spawn = spawn
        self._last = b"0-0"  # the last reply-stream entry dispatched
        self._position = (0, 0)
        self._since_trim = 0
        self._catching_up: list[bytes] | None = None

    async def run(self) -> None:
        """Hear answers and events as Redis writes them; after every (re)subscription, take what was
        written while nobody listened."""
        delay = 0.02
        while not self.closed():
            self._catching_up = []
            try:
                lost = await self.subscriber.subscribe(self.channel, self._heard)
                await self._catch_up()
                delay = 0.02
                await lost
            except TRANSIENT as exc:
                if self.closed():
                    return
                log.warning("reply reader lost redis (%s); retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
            finally:
                self.subscriber.disconnect()

    async def _catch_up(self) -> None:
        """Take the answers of waiting requests from their `done` keys and the events from the reply
        stream. The answers are read first and dispatched last: every event written before an answer
        is in the stream by then, so a request's events still come before its answer."""
        waiting = [self.keys.done(request_id) for request_id in list(self.waiting())]
        answers = await self.fast.execute_command("MGET", *waiting) if waiting else []
        while True:
            response = await self.fast.execute_command("XREAD", "COUNT", 1000, "STREAMS", self.stream, self._last)
            entries = response[0][1] if response else []
            for entry_id, flat in entries:
                self._accept(entry_id, fields_of(flat).get(b"m", b""))
            if len(entries) < 1000:
                break
        for raw in answers:
            if raw is not None:
                self.dispatch(raw)  # an answer also heard is dispatched once: the second finds its request done
        heard, self._catching_up = self._catching_up or [], None
        for payload in heard:
            self._take(payload)

    def _heard(self, payload: bytes) -> None:
        if self._catching_up is not None:
            self._catching_up.append(payload)
            return
        self._take(payload)

    def _take(self, payload: bytes) -> None:
        """A message from the channel: an answer is its JSON alone, an event comes with its stream id."""
        try:
            if payload[:1] == b"{":
                self.dispatch(payload)
                return
            entry_id, _, raw = payload.partition(b" ")
            self._accept(entry_id, raw)
        except Exception:  # noqa: BLE001 - this runs inside the connection's reader: never break it
            log.exception("could not take a message from %s", self.channel)

    def _accept(self, entry_id: bytes, raw: bytes) -> None:
        """Dispatch an event of the reply stream once, whether it was heard, read, or both."""
        ms, _, seq = entry_id.partition(b"-")
        position = (int(ms), int(seq or 0))
        if position <= self._position:
            return
        self._position, self._last = position, entry_id
        self.dispatch(raw)
        self._since_trim += 1
        if self._since_trim >= 256:  # what was read is never read again: keep the stream short
            self._since_trim = 0
            self.spawn(self._trim(entry_id), "redisbus:trim")

    async def _trim(self, last: bytes) -> None:
        try:
            await self.fast.execute_command("XTRIM", self.stream, "MINID", "~", last)
        except TRANSIENT:
            pass
