"""The serving half of `RedisBus`: take requests from inbox streams, run handlers, answer, ack.

The `Server` owns its collaborators, each made with exactly what it needs: `InboxReads` (blocking
XREADGROUPs over the served inboxes, a few dozen each), `Upkeep` (says the worker is alive, keeps
the requests it is still working on, takes over those of silent workers) and `Answerer` (answer,
ack and dead letters in one transaction). Each request runs in its own task; the records a paired
store hands to it (`Deliveries`) go out with its answer.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigError, MessageError
from ..messages import ErrorInfo, Message
from ._redis_answer import Answerer, wire
from ._redis_conn import TRANSIENT, Keys, RedisBusError, retrying, stop_tasks
from ._redis_events import EventWriter
from ._redis_read import InboxReads
from ._redis_records import Deliveries
from ._redis_recover import Upkeep
from ._redis_settings import RedisBusSettings
from .base import Handler
from .deadline import reset_deadline, set_deadline

__all__ = ["Server", "parse_request"]

log = logging.getLogger("aiflows.bus.redis")
GROUP = Keys.GROUP

Fields = dict[bytes, bytes]


class _Exhausted(Exception):
    """A handler raised on every attempt; `last` is its last error."""

    def __init__(self, last: Exception, attempts: int) -> None:
        super().__init__(str(last))
        self.last = last
        self.attempts = attempts


def parse_request(fields: Fields) -> tuple[Message, float | None]:
    """The request in an inbox entry and its deadline, checked at the first read.

    Raises:
        MessageError: naming the field that is missing or malformed (poison: dead-letter it at once).
    """
    raw = fields.get(b"m")
    if raw is None:
        named = ", ".join(repr(k.decode(errors="replace")) for k in fields) or "none"
        raise MessageError(f"the inbox entry has no field 'm' (the message); its fields: {named}")
    try:
        request = Message.from_json(raw)
    except MessageError as exc:
        raise MessageError(f"field 'm' (the message): {exc}") from None
    if request.kind != "request":
        raise MessageError(f"field 'm': a '{request.kind}' message was sent to an inbox; only requests go there")
    value = fields.get(b"d")
    if value is None:
        return request, None
    try:
        deadline = float(value)
    except ValueError:
        deadline = math.nan
    if not math.isfinite(deadline):
        shown = value[:40].decode(errors="replace")
        raise MessageError(f"field 'd' (the deadline, epoch seconds) is not a number: {shown!r}")
    return request, deadline


@dataclass(slots=True)
class _Inflight:
    request: Message
    reply_key: str
    task: asyncio.Task[Any]
    cancelled: bool = False


class Server:
    """The requests a worker takes from Redis and answers.

    Args:
        client: redis-py, for everything but the commands every request makes.
        fast: the lean pipelined connection for those.
        connect: a new lean connection (each inbox read blocks one of its own).
        closed: whether the bus is closed.
        events: where events towards callers are written (an answer waits for the events before it).
        deliveries: where a paired store hands the records of a request to its answer.
    """

    def __init__(
        self,
        client: Any,
        fast: Any,
        connect: Callable[[], Any],
        keys: Keys,
        settings: RedisBusSettings,
        consumer: str,
        *,
        closed: Callable[[], bool],
        events: EventWriter,
        deliveries: Deliveries,
    ) -> None:
        self.client = client
        self.keys = keys
        self.settings = settings
        self.consumer = consumer
        self.closed = closed
        self.events = events
        self.deliveries = deliveries
        self.handlers: dict[str, Handler] = {}
        self.inflight: dict[str, _Inflight] = {}
        self.entries: dict[str, dict[str, float]] = {}  # address -> entry ids being handled here -> since
        self._cancelled: OrderedDict[str, float] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slot = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._stopping = False
        self.answers = Answerer(fast, keys, settings)
        self.reads = InboxReads(
            client,
            connect,
            keys,
            settings,
            consumer,
            ensure_group=self._ensure_group,
            free=self._free,
            slot=self._slot,
            start=self._start,
            handle_here=self._handle_here,
            stopping=lambda: self._stopping,
        )
        self.upkeep = Upkeep(
            client,
            keys,
            settings,
            consumer,
            addresses=self.handlers,
            entries=self.entries,
            running=lambda: len(self._tasks),
            free=self._free,
            start=self._start,
            dead_letter=self.answers.dead_letter,
            stats=lambda: {"late_answers": self.answers.late, "dead_lettered": self.answers.dead},
        )

    # -- setup ------------------------------------------------------------------------------
    async def add(self, address: str, handler: Handler) -> None:
        if self.handlers.get(address, handler) is not handler:
            raise ConfigError(f"address '{address}' is already served by another flow in this worker")
        await self._ensure_group(self.keys.inbox(address))
        self.handlers[address] = handler
        self.entries.setdefault(address, {})
        await self.upkeep.heartbeat(live=True, addresses=[address])
        await self.reads.add(address)
        if not self._loops:
            loop = asyncio.get_running_loop()
            self._loops = [
                loop.create_task(self.upkeep.run(), name="redisbus:maintain"),
                loop.create_task(self._listen_cancels(), name="redisbus:cancels"),
            ]

    async def _ensure_group(self, key: str, start: str = "0") -> None:
        import redis.exceptions as rex

        async def op() -> None:
            try:
                await self.client.xgroup_create(key, GROUP, id=start, mkstream=True)
            except rex.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

        await retrying(
            op, what=f"creating the consumer group of {key}", closed=self.closed, backoff_max=self.settings.backoff_max
        )

    async def close(self, grace: float) -> None:
        self._stopping = True
        reads = self.reads.stop()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()  # unfinished requests stay pending: another worker takes them over
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await stop_tasks(self.client, [*self._loops, *reads])
        try:
            await self._deregister()
        except TRANSIENT:
            pass

    async def _deregister(self) -> None:
        client = self.client
        pipe = client.pipeline(transaction=False)
        pipe.srem(self.keys.workers, self.consumer)
        pipe.delete(self.keys.worker(self.consumer), *self.reads.wake_keys)
        await pipe.execute()
        for address in self.handlers:
            key = self.keys.inbox(address)
            summary = await client.xpending_range(key, GROUP, "-", "+", 1, consumername=self.consumer)
            if not summary:
                await client.xgroup_delconsumer(key, GROUP, self.consumer)

    # -- taking requests (from the reads and the upkeep) --------------------------------------
    def _free(self) -> int:
        return self.settings.concurrency - len(self._tasks)

    def _start(self, address: str, entry_id: str, fields: Fields | None, deliveries: int) -> None:
        self.entries[address][entry_id] = time.monotonic()
        task = asyncio.get_running_loop().create_task(
            self._process(address, entry_id, fields or {}, deliveries), name=f"redisbus:{address}:{entry_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    async def _handle_here(self, address: str, entry_id: str, fields: Fields) -> None:
        """Handle a first delivery in the calling task (a read's, which handed its reading on)."""
        task = asyncio.current_task()
        assert task is not None
        task.set_name(f"redisbus:{address}:{entry_id}")
        self.entries[address][entry_id] = time.monotonic()
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        await self._process(address, entry_id, fields, 1)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slot.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("a request task failed", exc_info=task.exception())

    # -- handling ---------------------------------------------------------------------------
    async def _process(self, address: str, entry_id: str, fields: Fields, deliveries: int) -> None:
        try:
            await self._handle(address, entry_id, fields, deliveries)
        except RedisBusError as exc:  # Redis stayed away past the deadline: the entry stays pending
            log.warning("request %s on %s left pending: %s", entry_id, address, exc)
        finally:
            self.entries[address].pop(entry_id, None)

    async def _handle(self, address: str, entry_id: str, fields: Fields, deliveries: int) -> None:
        raw = fields.get(b"m", b"")
        try:
            request, deadline = parse_request(fields)
        except MessageError as exc:  # poison: no worker can handle it, so none retries it
            await self.answers.dead_letter(address, entry_id, raw, "MessageError", str(exc), deliveries)
            return
        reply_key = self.keys.reply(request.reply_to) if request.reply_to else ""
        if deliveries > 1 or b"x" in fields:  # maybe handled before: answer from the record, do not run again
            stored = await retrying(
                lambda: self.client.get(self.keys.done(request.id)),
                what="checking a redelivery",
                closed=self.closed,
                backoff_max=self.settings.backoff_max,
            )
            if stored is not None:
                await self.answers.ack_answered(address, entry_id, reply_key, stored)
                return
        if deadline is None and self.settings.deadline is not None:
            deadline = time.time() + self.settings.deadline  # a hung handler never holds a request for ever
        records: list[tuple[Any, ...]] | None = None
        dead: ErrorInfo | None = None
        if request.id in self._cancelled:
            answer = request.fail(self._error(request, "Cancelled", "the caller cancelled the request"))
        elif deadline is not None and time.time() >= deadline:
            dead = self._error(request, "Timeout", "the request's deadline passed before a worker started it")
            answer = request.fail(dead)
        else:
            delivery = self.deliveries.begin(
                request.id,
                request.run_id,
                start_landed=b"s" in fields,
                fresh=deliveries == 1 and b"f" in fields and b"x" not in fields,
            )
            try:
                answer, dead = await self._run(address, request, reply_key, deadline)
            finally:
                records = self.deliveries.end(delivery)
        await self.events.drain()
        if dead is not None:
            # Past its deadline or failing every attempt: out of the inbox, kept with the reason.
            grace = None if deadline is None else deadline + self.settings.visibility_timeout
            await self.answers.dead_letter(
                address, entry_id, raw, dead.type, dead.message, deliveries, records, until=grace
            )
            return
        await self.answers.ack(address, entry_id, reply_key, wire(request, answer), request.id, records, until=deadline)

    async def _run(
        self, address: str, request: Message, reply_key: str, deadline: float | None
    ) -> tuple[Message, ErrorInfo | None]:
        """The handler's answer, and the error to dead-letter the request with (past its deadline,
        or raising on every attempt), if any."""
        task = asyncio.current_task()
        assert task is not None
        info = self.inflight[request.id] = _Inflight(request, reply_key, task)
        token = set_deadline(deadline)
        try:
            try:
                async with asyncio.timeout(None if deadline is None else deadline - time.time()):
                    return await self._attempts(address, request), None
            except TimeoutError:
                error = self._error(request, "Timeout", "the request's deadline passed while it ran")
                return request.fail(error), error
            except _Exhausted as exc:
                error = ErrorInfo(
                    address=address,
                    type=type(exc.last).__name__,
                    message=f"the handler raised on each of its {exc.attempts} attempts; the last: {exc.last}",
                    run_id=request.run_id,
                    path=request.path,
                )
                return request.fail(error), error
        except asyncio.CancelledError:
            if not info.cancelled:
                raise  # the worker is shutting down: leave the request pending for another
            task.uncancel()
            return request.fail(self._error(request, "Cancelled", "the caller cancelled the request")), None
        finally:
            reset_deadline(token)
            self.inflight.pop(request.id, None)

    async def _attempts(self, address: str, request: Message) -> Message:
        """Run the handler, again (with a short backoff) while it raises, `attempts` times in all.
        A host never raises for a flow's failure (that is an answer): this is a bug below the flow."""
        attempts = self.settings.attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self.handlers[address](request)
            except Exception as exc:
                log.warning("the handler of %s raised (attempt %d of %d)", address, attempt, attempts, exc_info=True)
                if attempt == attempts:
                    raise _Exhausted(exc, attempts) from exc
                await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise AssertionError("unreachable")

    def _error(self, request: Message, kind: str, text: str) -> ErrorInfo:
        return ErrorInfo(address=request.recipient, type=kind, message=text, run_id=request.run_id, path=request.path)

    # -- events -----------------------------------------------------------------------------
    def forward_event(self, event: Message, request_id: str | None) -> bool:
        """Send an event to the caller of the request `request_id` being handled here; False if there is none."""
        info = self.inflight.get(request_id or "")
        if info is None or not info.reply_key:
            return False
        if event.correlation_id != request_id or event.recipient != info.request.reply_to:
            event = event.model_copy(update={"correlation_id": request_id, "recipient": info.request.reply_to})
        self.events.write(info.reply_key, event)
        return True

    # -- cancellation -----------------------------------------------------------------------
    async def _listen_cancels(self) -> None:
        delay = 0.02
        while not self._stopping:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.keys.cancel)
                delay = 0.02
                while not self._stopping:
                    message = await pubsub.get_message(timeout=self.settings.block_ms / 1000)
                    if message is not None:
                        self.cancel(message["data"].decode())
            except TRANSIENT:
                if self._stopping:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001 - the connection is already gone
                    pass

    def cancel(self, request_id: str) -> None:
        horizon = time.monotonic() - 2 * self.settings.visibility_timeout - 60
        while self._cancelled and (next(iter(self._cancelled.values())) < horizon or len(self._cancelled) > 100_000):
            self._cancelled.popitem(last=False)
        self._cancelled[request_id] = time.monotonic()
        info = self.inflight.get(request_id)
        # A handler already being cancelled (its deadline passed) is cleaning up: a second cancel
        # would cut that clean-up short, so it is left to finish.
        if info is not None and not info.cancelled and not info.task.cancelling():
            info.cancelled = True
            info.task.cancel()
