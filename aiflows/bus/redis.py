"""The Redis transport: flows spread over processes and machines, with nothing lost.

Layout (every key under the deployment's namespace `{ns}`):

    {ns}:in:{address}     stream, consumer group "workers": requests; each worker is a consumer
    {ns}:notify:{client}  channel: answers and events for one client (one `RedisBus`), as they are written
    {ns}:reply:{client}   stream: the events, for a client that was not listening when they were written
    {ns}:done:{request}   the answer of a handled request, kept a while for its caller and for redelivered duplicates
    {ns}:dead:{address}   stream: requests that could not be handled, with the reason
    {ns}:live:{address}   set (with expiry) while some worker serves the address

A request is acknowledged only after its answer is written, in the same atomic step; a worker
that dies mid-request leaves it pending and another takes it over after the visibility timeout.

    bus = RedisBus("redis://localhost:6379/0", namespace="prod")
    async with Runtime(bus=bus, store=RedisStore("redis://localhost:6379/0", namespace="prod")) as rt:
        print(await rt.call("write_review", {"topic": "flows"}))
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..exceptions import ConfigError, MessageError
from ..messages import ErrorInfo, Message, _trusted, new_id
from ._redis_conn import (
    TRANSIENT,
    Keys,
    RedisBusError,
    RedisTLS,
    check_url,
    connect,
    connect_lean,
    ping,
    redact,
    retrying,
    stop_tasks,
)
from ._redis_events import EventWriter
from ._redis_records import Deliveries
from ._redis_replies import ReplyReader
from ._redis_scripts import Scripts
from ._redis_serve import Server
from ._redis_settings import RedisBusSettings
from .base import Caller, EventListener, Handler, Listeners, unwrap
from .deadline import current_deadline

__all__ = ["RedisBus", "RedisBusError", "RedisBusSettings", "RedisTLS"]

log = logging.getLogger("aiflows.bus.redis")


@dataclass(slots=True)
class _Pending:
    """A request this bus sent and is waiting on."""

    future: asyncio.Future[Message]
    message: Message
    sent: float
    deadline: float | None
    entry_id: str | None = None


class RedisBus:
    """A bus over Redis Streams: requests to an address go to whichever worker takes them first.

    Args:
        url: `redis://[user:password@]host:port/db` or `rediss://...` for TLS.
        settings: the protocol's knobs (see `RedisBusSettings`); keyword overrides win.
        tls: certificate options for `rediss://` URLs.
        accept: which addresses this process serves when flows are hosted on it (default: all);
            the rest are only called, and some other worker serves them.
        **overrides: any `RedisBusSettings` field, e.g. `namespace="prod"`, `visibility_timeout=5`.

    Raises:
        ConfigError: the URL, TLS options or a setting is wrong.
        RedisBusError (on start): Redis is unreachable or refused the credentials.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        settings: RedisBusSettings | None = None,
        tls: RedisTLS | dict[str, Any] | None = None,
        accept: Callable[[str], bool] | None = None,
        **overrides: Any,
    ) -> None:
        check_url(url)
        base = settings or RedisBusSettings()
        try:
            self.settings = RedisBusSettings.model_validate({**base.model_dump(), **overrides})
        except Exception as exc:  # pydantic's ValidationError, or an unknown key
            raise ConfigError(f"RedisBus settings: {exc}") from None
        self.url = url
        self.tls = RedisTLS.model_validate(tls) if isinstance(tls, dict) else tls
        if self.tls is not None and not url.startswith("rediss://"):
            raise ConfigError(f"TLS options were given but the URL '{redact(url)}' is not rediss://")
        self.keys = Keys(self.settings.namespace)
        self.deployment = (url, self.settings.namespace)  # what a store of the same Redis and namespace matches
        self.accept = accept
        self.client_id = f"{socket.gethostname()}-{os.getpid()}-{new_id()[:8]}"
        self.client: Any = None  # redis-py, for everything but the commands every request makes
        self.fast: Any = None  # a lean pipelined connection for those (see `_resp`)
        self.scripts = Scripts()
        # What a store of this deployment hands to the requests sent and answered here (see `RedisStore.pair`).
        self.deliveries = Deliveries(self.deployment)
        self._replies: ReplyReader | None = None  # hears this client's channel (made on start)
        self._events: EventWriter | None = None  # writes events towards callers (made on start)
        self._state: Literal["unopened", "open", "closed"] = "unopened"
        self._pending: dict[str, _Pending] = {}
        self._listeners = Listeners()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._server: Server | None = None

    def __repr__(self) -> str:
        return f"<RedisBus {redact(self.url)} ns={self.keys.ns!r} {self._state}>"

    @property
    def closed(self) -> bool:
        return self._state == "closed"

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        if self._state == "open":
            return
        if self._state == "closed":
            raise RuntimeError("a RedisBus cannot be reopened after close(); make a new one")
        self.client = connect(self.url, self.tls)
        self.fast = connect_lean(self.url, self.tls)
        try:
            await ping(self.client, self.url, probe=self.keys.reply(self.client_id))
            await ping(self.fast, self.url)
        except BaseException:
            await self.client.aclose()
            self.fast.disconnect()
            raise
        self._events = EventWriter(self.fast, self.scripts, self.keys, self.settings)
        self._replies = ReplyReader(
            connect_lean(self.url, self.tls),
            self.fast,
            self.keys,
            self.client_id,
            backoff_max=self.settings.backoff_max,
            closed=lambda: self.closed,
            waiting=self._pending.keys,
            dispatch=self._dispatch,
            spawn=self._spawn,
        )
        self._state = "open"
        self._loops = [
            asyncio.get_running_loop().create_task(self._replies.run(), name="redisbus:replies"),
            asyncio.get_running_loop().create_task(self._sweep(), name="redisbus:sweep"),
        ]

    async def close(self, grace: float = 5.0) -> None:
        """Finish the requests being handled here (up to `grace` seconds), then disconnect.

        Requests still running after the grace period stay pending in Redis: another worker
        takes them over, so a shutdown loses nothing.
        """
        if self._state != "open":
            self._state = "closed"
            return
        try:
            if self._server is not None:
                await self._server.close(grace)
            while self._tasks:
                await asyncio.wait(list(self._tasks), timeout=grace)
                for task in self._tasks:
                    task.cancel()
                break
            await self.drain_events()
        finally:
            self._state = "closed"
            await stop_tasks(self.client, self._loops)
            if self._replies is not None:
                self._replies.subscriber.disconnect()
            for pending in self._pending.values():
                if not pending.future.done():
                    pending.future.set_exception(RedisBusError("the bus was closed while waiting for an answer"))
            try:
                await self.client.delete(self.keys.reply(self.client_id))
            except TRANSIENT:
                pass
            await self.client.aclose()
            await self.fast.aclose()

    def _check_open(self) -> None:
        if self._state != "open":
            raise RuntimeError(f"the RedisBus is {self._state}: use it inside `async with Runtime(bus=...)`")

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- serving -----------------------------------------------------------------------------
    async def serve(self, address: str, handler: Handler, *, call: Caller | None = None) -> None:
        """Take requests for `address` from Redis (unless `accept` says another worker serves it).
        Every call goes through Redis, whoever makes it: `call` is not needed."""
        self._check_open()
        if self.accept is not None and not self.accept(address):
            return
        if self._server is None:
            assert self._events is not None
            self._server = Server(
                self.client,
                self.fast,
                lambda: connect_lean(self.url, self.tls),
                self.keys,
                self.settings,
                self.client_id,
                closed=lambda: self.closed,
                events=self._events,
                deliveries=self.deliveries,
            )
        await self._server.add(address, handler)

    def serving(self) -> list[str]:
        return sorted(self._server.handlers) if self._server else []

    # -- calling -----------------------------------------------------------------------------
    async def request(self, message: Message) -> Message:
        """Queue the request at its address and wait for the answer.

        Cancelling the wait (a caller's timeout) cancels the request: it is removed from the
        queue if no worker took it yet, and the worker handling it stops.
        """
        self._check_open()
        msg = (
            message
            if message.reply_to == self.client_id
            else _trusted({**message.__dict__, "reply_to": self.client_id})
        )
        deadline = current_deadline() or (time.time() + self.settings.deadline if self.settings.deadline else None)
        pending = _Pending(asyncio.get_running_loop().create_future(), msg, time.monotonic(), deadline)
        self._pending[msg.id] = pending
        try:
            entry_id = await self._enqueue(msg, deadline)
            if entry_id is None:
                return msg.fail(self._unknown(msg))
            pending.entry_id = entry_id
            return await pending.future
        except asyncio.CancelledError:
            answered = pending.future.done() and not pending.future.cancelled()  # our wait cancels the future too
            if not answered and self._state == "open":
                self._spawn(self._cancel(msg, pending.entry_id), name=f"cancel:{msg.id}")
            raise
        finally:
            self._pending.pop(msg.id, None)

    async def call(self, message: Message) -> dict[str, Any]:
        """The request's output; its error raised as `FlowError`."""
        return unwrap(await self.request(message))

    async def send(self, message: Message) -> None:
        """Queue the request and do not wait; nobody is answered (the trace keeps the outcome)."""
        self._check_open()
        msg = message.model_copy(update={"reply_to": ""})
        if await self._enqueue(msg, current_deadline()) is None:
            raise RedisBusError(self._unknown(msg).message)

    async def _enqueue(self, msg: Message, deadline: float | None) -> str | None:
        """XADD the request to its inbox; None when no worker ever served the address."""
        args: list[Any] = ["XADD", self.keys.inbox(msg.recipient), "NOMKSTREAM", "*", "m", msg.to_wire()]
        if deadline is not None:
            args += ["d", repr(deadline)]
        carried = self.deliveries.take_offered(msg.run_id)  # a new run's start record: one write for both
        if (carried is not None and carried.fresh) or self.deliveries.calls_from_fresh(msg.parent_id):
            args += ["f", "1"]  # the run's first execution: the worker need not load its journal
        try:
            if carried is None:
                entry = await self.fast.execute_command(*args)
            else:
                *records, entry = await self.fast.execute_many(
                    [*carried.commands, (*args, "s", "1")], raise_errors=False
                )
                if any(isinstance(r, Exception) for r in records):
                    carried.failed()
                if isinstance(entry, Exception):
                    raise entry
        except TRANSIENT:  # the request may have landed: let the worker check for a duplicate
            if carried is not None:
                carried.failed()
            args += ["x", "1"]
            entry = await retrying(
                lambda: self.fast.execute_command(*args),
                what=f"sending to '{msg.recipient}'",
                closed=lambda: self.closed,
                backoff_max=self.settings.backoff_max,
            )
        return None if entry is None else entry.decode()

    async def _cancel(self, msg: Message, entry_id: str | None) -> None:
        async def op() -> None:
            pipe = self.client.pipeline(transaction=False)
            if entry_id is not None:
                pipe.xdel(self.keys.inbox(msg.recipient), entry_id)
            pipe.publish(self.keys.cancel, msg.id)
            await pipe.execute()

        await retrying(
            op, what="cancelling a request", closed=lambda: self.closed, backoff_max=self.settings.backoff_max
        )

    def _unknown(self, msg: Message) -> ErrorInfo:
        return ErrorInfo(
            address=msg.recipient,
            type="UnknownAddress",
            message=f"no worker has ever served '{msg.recipient}' in namespace '{self.keys.ns}' "
            f"(start one with `aiflows serve ... --redis URL`)",
            run_id=msg.run_id,
            path=msg.path,
        )

    # -- answers and events coming back -----------------------------------------------------
    def _dispatch(self, raw: bytes | None) -> None:
        try:
            msg = Message.from_json(raw or b"")
        except MessageError as exc:
            log.warning("dropped an unreadable answer on %s: %s", self.keys.notify(self.client_id), exc)
            return
        if msg.kind == "event":
            self._on_event(msg)
            return
        pending = self._pending.get(msg.correlation_id or "")
        if pending is not None and not pending.future.done():
            pending.future.set_result(msg)  # a duplicate answer finds the future done and is ignored

    def _on_event(self, event: Message) -> None:
        pending = self._pending.get(event.correlation_id or "")
        if pending is not None and self._server is not None:
            # An event of a call made while handling a request here: pass it on towards that request's
            # caller; the listeners are at the end of the chain, where the run was started.
            if self._server.forward_event(event, pending.message.parent_id):
                return
        self._listeners.dispatch(event)

    # -- events ------------------------------------------------------------------------------
    def publish(self, event: Message) -> None:
        """Send an event up the call chain to whoever started the run (it arrives before the answer)."""
        if self._server is not None:
            self._server.forward_event(event, event.correlation_id)

    async def drain_events(self) -> None:
        """Wait until every event published so far is in Redis (answers follow their events)."""
        if self._events is not None:
            await self._events.drain()

    def listen(self, run_id: str, listener: EventListener) -> Callable[[], None]:
        """Call `listener` with the events of runs this bus started (they come back with the answers)."""
        return self._listeners.add(run_id, listener)

    # -- requests nobody answers ------------------------------------------------------------
    async def _sweep(self) -> None:
        """Fail requests whose address no live worker serves, and those past their deadline."""
        interval = min(0.5, (self.settings.wait_for_worker or 0.5) / 2)
        while True:
            await asyncio.sleep(interval)
            now, wall = time.monotonic(), time.time()
            live: dict[str, bool] = {}
            for pending in list(self._pending.values()):
                if pending.future.done() or pending.entry_id is None:
                    continue
                address = pending.message.recipient
                if pending.deadline is not None and wall > pending.deadline + 1.0:
                    self._give_up(pending, "Timeout", f"no answer from '{address}' by the request's deadline")
                    continue
                wait = self.settings.wait_for_worker
                if wait is None or now - pending.sent < wait:
                    continue
                if address not in live:
                    try:
                        live[address] = bool(await self.client.exists(self.keys.live(address)))
                    except TRANSIENT:
                        live[address] = True  # cannot tell while Redis is away: keep waiting
                if not live[address]:
                    self._give_up(
                        pending,
                        "NoWorker",
                        f"no live worker serves '{address}' in namespace '{self.keys.ns}' "
                        f"(waited {wait:g} s; start one with `aiflows serve ... --redis URL`)",
                    )

    def _give_up(self, pending: _Pending, kind: str, text: str) -> None:
        msg = pending.message
        info = ErrorInfo(address=msg.recipient, type=kind, message=text, run_id=msg.run_id, path=msg.path)
        pending.future.set_result(msg.fail(info))
        self._spawn(self._cancel(msg, pending.entry_id), name=f"cancel:{msg.id}")
