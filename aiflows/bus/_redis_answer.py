"""Answering a request: first answer wins, and a transient Redis error never drops an answer.

An answer is written by the `ANSWER` script: the answer goes under the request's `done` key only
if that key is empty, and only then do the records of the request (journal entry, span, run end,
see `_redis_records`), a dead-letter entry and the publication go with it; the inbox entry is
acked either way. A worker that wakes after its request was taken over and answered elsewhere
(a paused process, a slow handler) therefore changes nothing the caller or the run remembers: it
is told so (`late`, logged at debug). A write that meets a dropped connection, a server loading
its data (LOADING) or a busy one (BUSY) is written again with backoff until the request's
deadline: the script is idempotent, so an attempt whose reply was lost is recognised.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..exceptions import MessageError
from ..messages import ErrorInfo, Message
from ._redis_conn import Keys, retrying
from ._redis_scripts import ANSWER, Scripts
from ._redis_settings import RedisBusSettings

__all__ = ["Answerer", "answer_commands", "wire"]

log = logging.getLogger("aiflows.bus.redis")
GROUP = Keys.GROUP

Command = tuple[Any, ...]


class Answerer:
    """Writes answers, acks and dead letters over the lean connection, again while Redis is away.

    Attributes:
        late: answers this worker wrote after another answer to the same request was first (ignored).
        dead: requests this worker dead-lettered.
    """

    def __init__(self, fast: Any, keys: Keys, settings: RedisBusSettings, scripts: Scripts | None = None) -> None:
        self.fast = fast
        self.keys = keys
        self.settings = settings
        self.scripts = scripts or Scripts()
        self.late = 0
        self.dead = 0

    async def ack(
        self,
        address: str,
        entry_id: str,
        reply_key: str,
        reply: bytes | str,
        request_id: str,
        records: list[Command] | None = None,
        *,
        until: float | None = None,
    ) -> bool:
        """Answer and ack; the records go with the answer. False when another answer was first
        (nothing of this one is kept). Written again through outages until `until` (epoch s)."""
        channel = self.keys.notify_of(reply_key) if reply_key else ""
        return await self._answer(address, entry_id, channel, reply, request_id, records or [], until)

    async def ack_answered(self, address: str, entry_id: str, reply_key: str, stored: bytes) -> None:
        """Ack a redelivered request that was answered before, telling its caller the stored answer again."""
        channel = self.keys.notify_of(reply_key) if reply_key else ""
        commands = answer_commands(self.keys, address, entry_id, channel, stored)
        replies = await self._write(commands, "acknowledging an answered request", None)
        _check_transaction(replies[-1])

    async def dead_letter(
        self,
        address: str,
        entry_id: str,
        raw: bytes,
        kind: str,
        text: str,
        deliveries: int,
        records: list[Command] | None = None,
        *,
        until: float | None = None,
    ) -> ErrorInfo:
        """Move a request that cannot be handled to `{ns}:dead:{address}` and tell its caller why
        (when its message says who that is). Returns the error."""
        s = self.settings
        peek = _peek(raw)
        channel = ""
        info = ErrorInfo(
            address=address, type=kind, message=text, run_id=peek.get("run_id") or "", path=peek.get("path") or ""
        )
        request_id = str(peek.get("id") or f"entry-{address}-{entry_id}")
        error = Message.model_construct(
            id=f"dead-{entry_id}",
            kind="error",
            sender=address,
            recipient=str(peek.get("reply_to") or ""),
            reply_to=None,
            correlation_id=request_id,
            parent_id=None,
            run_id=info.run_id,
            session="default",
            path=info.path,
            created_at=time.time(),
            data={},
            error=info,
            v=1,
        )
        reply = error.to_json()
        if peek.get("reply_to") and peek.get("id"):
            channel = self.keys.notify(str(peek["reply_to"]))
        dead: Command = (
            "XADD",
            self.keys.dead(address),
            "MAXLEN",
            "~",
            s.dead_maxlen,
            "*",
            "m",
            raw,
            "error",
            info.model_dump_json(),
            "entry",
            entry_id,
            "deliveries",
            deliveries,
        )
        # The dead letter is a record of the answer: a request answered elsewhere first is not dead.
        if await self._answer(address, entry_id, channel, reply, request_id, [*(records or ()), dead], until):
            self.dead += 1
            log.warning("dead-lettered %s on %s: %s: %s", entry_id, address, kind, text)
        return info

    async def _answer(
        self,
        address: str,
        entry_id: str,
        channel: str,
        reply: bytes | str,
        request_id: str,
        records: list[Command],
        until: float | None,
    ) -> bool:
        args: list[Any] = [reply, int(self.settings.processed_ttl * 1000), channel, entry_id, len(records)]
        for command in records:
            args += [len(command), *command]
        keys = [self.keys.done(request_id), self.keys.inbox(address)]
        written, failed, first = await retrying(
            lambda: self.scripts.run(self.fast, ANSWER, keys, args),
            what="answering a request",
            closed=lambda: False,
            backoff_max=self.settings.backoff_max,
            until=until,
        )
        if failed:
            log.error("%d records of %s on %s were not written: %s", failed, request_id, address, _text(first))
        if written == 0:
            self.late += 1
            log.debug("a late answer to %s on %s was dropped: another answer was first", request_id, address)
            return False
        return True

    async def _write(self, commands: list[Command], what: str, until: float | None) -> list[Any]:
        """Send commands in one write, again while Redis is away or loading (a transaction that did not
        reach EXEC ran nothing); error replies come back in place."""

        import redis.exceptions as rex

        async def op() -> list[Any]:
            replies: list[Any] = await self.fast.execute_many(commands, raise_errors=False)
            for reply in replies:
                if isinstance(reply, rex.BusyLoadingError):
                    raise reply  # refused while loading or busy: the transaction ran nothing, write it again
            return replies

        replies: list[Any] = await retrying(
            op, what=what, closed=lambda: False, backoff_max=self.settings.backoff_max, until=until
        )
        return replies


def answer_commands(keys: Keys, address: str, entry_id: str, channel: str, reply: bytes | str) -> list[Command]:
    """Ack a request already answered, as one MULTI/EXEC: publish its stored answer on the caller's
    channel (when someone waits), then ack and delete the inbox entry."""
    inbox = keys.inbox(address)
    answer: list[Command] = [("PUBLISH", channel, reply)] if channel and reply else []
    return [("MULTI",), *answer, ("XACK", inbox, GROUP, entry_id), ("XDEL", inbox, entry_id), ("EXEC",)]


def wire(request: Message, answer: Message) -> bytes:
    """The answer as sent; an error naming the flow when its output is no JSON (it cannot travel)."""
    try:
        return answer.to_wire()
    except MessageError as exc:
        info = ErrorInfo(
            address=request.recipient,
            type="SchemaError",
            message=f"the output is not JSON: {exc}",
            run_id=request.run_id,
            path=request.path,
        )
        return request.fail(info).to_wire()


def _peek(raw: bytes) -> dict[str, Any]:
    """Whatever routing fields can be read from a message that failed validation."""
    try:
        value = json.loads(raw)
    except (ValueError, TypeError):
        return {}
    if not isinstance(value, dict):
        return {}
    return {k: value[k] for k in ("id", "reply_to", "run_id", "path") if isinstance(value.get(k), str)}


def _text(error: Any) -> str:
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)


def _check_transaction(done: Any) -> None:
    """Raise the error of a refused transaction (EXECABORT), or of a command in it that failed."""
    if isinstance(done, Exception):
        raise done
    for reply in done:
        if isinstance(reply, Exception):
            raise reply
