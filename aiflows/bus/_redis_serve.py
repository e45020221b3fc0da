"""The serving half of `RedisBus`: take requests from inbox streams, run handlers, answer, ack.

Blocking XREADGROUPs read the served inboxes, a few dozen each (`_redis_read`); each request
runs in its own task. A maintenance loop says the worker is alive, keeps the requests it is
still working on (so nobody takes them over), takes over requests whose worker went silent
(XAUTOCLAIM), and dead-letters those that killed their workers too often.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import MessageError
from ..messages import ErrorInfo, Message
from . import _with_answer
from ._journal_hint import mark_fresh
from ._redis_conn import TRANSIENT, Keys, retrying, stop_tasks
from ._redis_read import Reader, Reading
from ._redis_recover import Maintenance
from .base import Handler
from .deadline import reset_deadline, set_deadline

if TYPE_CHECKING:
    from .redis import RedisBus

__all__ = ["Server", "answer_commands"]

log = logging.getLogger("aiflows.bus.redis")
GROUP = Keys.GROUP


@dataclass(slots=True)
class _Inflight:
    request: Message
    reply_key: str
    task: asyncio.Task[Any]
    cancelled: bool = False


class Server(Maintenance, Reading):
    def __init__(self, bus: RedisBus) -> None:
        self.bus = bus
        self.keys = bus.keys
        self.settings = bus.settings
        self.consumer = bus.client_id
        self.handlers: dict[str, Handler] = {}
        self.inflight: dict[str, _Inflight] = {}
        self.entries: dict[str, dict[str, float]] = {}  # address -> entry ids being handled here -> since
        self._cancelled: OrderedDict[str, float] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slot = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._readers: list[Reader] = []
        self._stopping = False
        self._started_at = time.time()

    # -- setup ------------------------------------------------------------------------------
    async def add(self, address: str, handler: Handler) -> None:
        from ..exceptions import ConfigError

        if self.handlers.get(address, handler) is not handler:
            raise ConfigError(f"address '{address}' is already served by another flow in this worker")
        await self._ensure_group(self.keys.inbox(address))
        self.handlers[address] = handler
        self.entries.setdefault(address, {})
        await self._heartbeat(live=True, addresses=[address])
        await self._read_inbox(address)
        if not self._loops:
            loop = asyncio.get_running_loop()
            self._loops = [
                loop.create_task(self._maintain(), name="redisbus:maintain"),
                loop.create_task(self._listen_cancels(), name="redisbus:cancels"),
            ]

    async def _ensure_group(self, key: str, start: str = "0") -> None:
        import redis.exceptions as rex

        async def op() -> None:
            try:
                await self.bus.client.xgroup_create(key, GROUP, id=start, mkstream=True)
            except rex.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

        await retrying(op, what=f"creating the consumer group of {key}", closed=lambda: self.bus.closed,
                       backoff_max=self.settings.backoff_max)

    async def close(self, grace: float) -> None:
        self._stopping = True
        reads = self._stop_reading()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()  # unfinished requests stay pending: another worker takes them over
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await stop_tasks(self.bus.client, [*self._loops, *reads])
        try:
            await self._deregister()
        except TRANSIENT:
            pass

    async def _deregister(self) -> None:
        client = self.bus.client
        pipe = client.pipeline(transaction=False)
        pipe.srem(self.keys.workers, self.consumer)
        pipe.delete(self.keys.worker(self.consumer), *(reader.wake for reader in self._readers))
        await pipe.execute()
        for address in self.handlers:
            key = self.keys.inbox(address)
            summary = await client.xpending_range(key, GROUP, "-", "+", 1, consumername=self.consumer)
            if not summary:
                await client.xgroup_delconsumer(key, GROUP, self.consumer)

    # -- reading (see `_redis_read`) -------------------------------------------------------
    def _start(self, address: str, entry_id: str, fields: dict[bytes, bytes] | None, deliveries: int) -> None:
        self.entries[address][entry_id] = time.monotonic()
        task = asyncio.get_running_loop().create_task(
            self._process(address, entry_id, fields or {}, deliveries), name=f"redisbus:{address}:{entry_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slot.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("a request task failed", exc_info=task.exception())

    # -- handling ---------------------------------------------------------------------------
    async def _process(self, address: str, entry_id: str, fields: dict[bytes, bytes], deliveries: int) -> None:
        try:
            await self._handle(address, entry_id, fields, deliveries)
        finally:
            self.entries[address].pop(entry_id, None)

    async def _handle(self, address: str, entry_id: str, fields: dict[bytes, bytes], deliveries: int) -> None:
        raw = fields.get(b"m", b"")
        try:
            request = Message.from_json(raw)
            if request.kind != "request":
                raise MessageError(f"a '{request.kind}' message was sent to an inbox; only requests go there")
        except MessageError as exc:
            await self.dead_letter(address, entry_id, raw, "MessageError", str(exc), deliveries)
            return
        reply_key = self.keys.reply(request.reply_to) if request.reply_to else ""
        if deliveries > 1 or b"x" in fields:  # maybe handled before: answer from the record, do not run again
            stored = await retrying(lambda: self.bus.client.get(self.keys.done(request.id)), what="checking a redelivery",
                                    closed=lambda: self.bus.closed, backoff_max=self.settings.backoff_max)
            if stored is not None:
                await self._ack(address, entry_id, reply_key, stored if reply_key else "", request.id)
                return
        deadline = float(fields[b"d"]) if b"d" in fields else None
        if request.id in self._cancelled:
            answer = request.fail(self._error(request, "Cancelled", "the caller cancelled the request"))
        elif deadline is not None and time.time() >= deadline:
            answer = request.fail(self._error(request, "Timeout", "the request's deadline passed before a worker started it"))
        else:
            fresh = deliveries == 1 and b"f" in fields and b"x" not in fields
            writes = _with_answer.begin(self.bus.deployment, request.run_id if b"s" in fields else None)
            answer = await self._run(address, request, reply_key, deadline, fresh)
            await self.bus.drain_events()
            await self._ack(address, entry_id, reply_key, _wire(request, answer) if reply_key else "", request.id,
                            writes.take())
            return
        await self.bus.drain_events()
        await self._ack(address, entry_id, reply_key, _wire(request, answer) if reply_key else "", request.id)

    async def _run(self, address: str, request: Message, reply_key: str, deadline: float | None, fresh: bool) -> Message:
        task = asyncio.current_task()
        assert task is not None
        info = self.inflight[request.id] = _Inflight(request, reply_key, task)
        token = set_deadline(deadline)
        mark_fresh(request.run_id if fresh else None)  # this task's own context: nothing to reset
        try:
            if deadline is None:
                return await self.handlers[address](request)
            try:
                async with asyncio.timeout(deadline - time.time()):
                    return await self.handlers[address](request)
            except TimeoutError:
                return request.fail(self._error(request, "Timeout", "the request's deadline passed while it ran"))
        except asyncio.CancelledError:
            if not info.cancelled:
                raise  # the worker is shutting down: leave the request pending for another
            task.uncancel()
            return request.fail(self._error(request, "Cancelled", "the caller cancelled the request"))
        except Exception as exc:  # a host never raises for a flow's failure: this is a bug, answered as an error
            log.exception("the handler of %s raised", address)
            return request.fail(ErrorInfo.from_exception(exc, address=address, run_id=request.run_id, path=request.path))
        finally:
            reset_deadline(token)
            self.inflight.pop(request.id, None)

    def _error(self, request: Message, kind: str, text: str) -> ErrorInfo:
        return ErrorInfo(address=request.recipient, type=kind, message=text, run_id=request.run_id, path=request.path)

    async def _ack(self, address: str, entry_id: str, reply_key: str, reply: bytes | str, request_id: str,
                   records: list[tuple[Any, ...]] | None = None) -> None:
        """Answer and ack in one transaction, behind the request's records in the same write: the
        records land before the answer or not at all (Redis runs a connection's commands in order)."""
        s = self.settings
        channel = self.keys.notify_of(reply_key) if reply_key else ""
        commands = [*(records or ()), *answer_commands(self.keys, address, entry_id, channel, reply, request_id,
                                                        int(s.processed_ttl * 1000))]
        replies = await self._write(commands, "answering a request")
        failed = [r for r in replies[: len(records or ())] if isinstance(r, Exception)]
        if failed:
            log.error("%d records of %s on %s were not written: %s", len(failed), request_id, address, failed[0])
        _check_transaction(replies[-1])

    async def _write(self, commands: list[tuple[Any, ...]], what: str) -> list[Any]:
        """Send commands in one write, again while Redis is away (a transaction that did not reach
        EXEC ran nothing); error replies come back in place."""
        return await retrying(lambda: self.bus.fast.execute_many(commands, raise_errors=False), what=what,
                              closed=lambda: False, backoff_max=self.settings.backoff_max)

    async def dead_letter(self, address: str, entry_id: str, raw: bytes, kind: str, text: str, deliveries: int) -> None:
        """Move a request that cannot be handled to `{ns}:dead:{address}` and tell its caller why."""
        s = self.settings
        peek = _peek(raw)
        reply_key, reply = "", ""
        info = ErrorInfo(address=address, type=kind, message=text, run_id=peek.get("run_id") or "", path=peek.get("path") or "")
        if peek.get("reply_to") and peek.get("id"):
            reply_key = self.keys.reply(str(peek["reply_to"]))
            reply = Message.model_construct(
                id=f"dead-{entry_id}", kind="error", sender=address, recipient=str(peek["reply_to"]), reply_to=None,
                correlation_id=str(peek["id"]), parent_id=None, run_id=info.run_id, session="default", path=info.path,
                created_at=time.time(), data={}, error=info, v=1,
            ).to_json()
        dead = ("XADD", self.keys.dead(address), "MAXLEN", "~", s.dead_maxlen, "*", "m", raw,
                "error", info.model_dump_json(), "entry", entry_id, "deliveries", deliveries)
        commands = answer_commands(self.keys, address, entry_id, self.keys.notify_of(reply_key) if reply_key else "",
                                   reply, str(peek.get("id") or entry_id), int(s.processed_ttl * 1000))
        commands.insert(1, dead)  # in the same transaction as the answer and the ack
        log.warning("dead-lettered %s on %s: %s: %s", entry_id, address, kind, text)
        _check_transaction((await self._write(commands, "dead-lettering a request"))[-1])

    # -- events -----------------------------------------------------------------------------
    def forward_event(self, event: Message, request_id: str | None) -> bool:
        """Send an event to the caller of the request `request_id` being handled here; False if there is none."""
        info = self.inflight.get(request_id or "")
        if info is None or not info.reply_key:
            return False
        if event.correlation_id != request_id or event.recipient != info.request.reply_to:
            event = event.model_copy(update={"correlation_id": request_id, "recipient": info.request.reply_to})
        self.bus.write_event(info.reply_key, event)
        return True

    # -- cancellation -----------------------------------------------------------------------
    async def _listen_cancels(self) -> None:
        delay = 0.02
        while not self._stopping:
            pubsub = self.bus.client.pubsub(ignore_subscribe_messages=True)
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


def _peek(raw: bytes) -> dict[str, Any]:
    """Whatever routing fields can be read from a message that failed validation."""
    try:
        value = json.loads(raw)
    except (ValueError, TypeError):
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: value[k] for k in ("id", "reply_to", "run_id", "path") if isinstance(value.get(k), str)}


def _wire(request: Message, answer: Message) -> bytes:
    """The answer as sent; an error naming the flow when its output is no JSON (it cannot travel)."""
    try:
        return answer.to_wire()
    except MessageError as exc:
        info = ErrorInfo(address=request.recipient, type="SchemaError", message=f"the output is not JSON: {exc}",
                         run_id=request.run_id, path=request.path)
        return request.fail(info).to_wire()


def answer_commands(keys: Keys, address: str, entry_id: str, channel: str, reply: bytes | str, request_id: str,
                    processed_ttl_ms: int) -> list[tuple[Any, ...]]:
    """Answer a request and ack it, as one MULTI/EXEC: keep the answer under the request's `done` key
    (for the caller, should it miss the message, and for redelivered duplicates), publish it on the
    caller's channel, then ack and delete the inbox entry. With no reply (nobody waits), only the ack."""
    inbox = keys.inbox(address)
    answer: list[tuple[Any, ...]] = []
    if reply:
        answer = [("SET", keys.done(request_id), reply, "PX", processed_ttl_ms), ("PUBLISH", channel, reply)]
    return [("MULTI",), *answer, ("XACK", inbox, GROUP, entry_id), ("XDEL", inbox, entry_id), ("EXEC",)]


def _check_transaction(done: Any) -> None:
    """Raise the error of a refused transaction (EXECABORT), or of a command in it that failed."""
    if isinstance(done, Exception):
        raise done
    for reply in done:
        if isinstance(reply, Exception):
            raise reply
