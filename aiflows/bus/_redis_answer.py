"""Answering a request: the answer, the ack and a dead-letter entry in one MULTI/EXEC.

A request is acknowledged only after its answer is written, in the same atomic step; the records
that travel with the answer (see `_redis_records`) go out just before the transaction, in the same
write, so they land before the answer or not at all (Redis runs a connection's commands in order).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from ..exceptions import MessageError
from ..messages import ErrorInfo, Message
from ._redis_conn import Keys, retrying
from ._redis_settings import RedisBusSettings

__all__ = ["Answerer", "answer_commands", "wire"]

log = logging.getLogger("aiflows.bus.redis")
GROUP = Keys.GROUP

Command = tuple[Any, ...]


class Answerer:
    """Writes answers, acks and dead letters over the lean connection, again while Redis is away."""

    def __init__(self, fast: Any, keys: Keys, settings: RedisBusSettings) -> None:
        self.fast = fast
        self.keys = keys
        self.settings = settings

    async def ack(
        self,
        address: str,
        entry_id: str,
        reply_key: str,
        reply: bytes | str,
        request_id: str,
        records: list[Command] | None = None,
    ) -> None:
        """Answer and ack in one transaction, behind the request's records in the same write: the
        records land before the answer or not at all (Redis runs a connection's commands in order)."""
        channel = self.keys.notify_of(reply_key) if reply_key else ""
        commands = [
            *(records or ()),
            *answer_commands(
                self.keys, address, entry_id, channel, reply, request_id, int(self.settings.processed_ttl * 1000)
            ),
        ]
        replies = await self._write(commands, "answering a request")
        failed = [r for r in replies[: len(records or ())] if isinstance(r, Exception)]
        if failed:
            log.error("%d records of %s on %s were not written: %s", len(failed), request_id, address, failed[0])
        _check_transaction(replies[-1])

    async def dead_letter(self, address: str, entry_id: str, raw: bytes, kind: str, text: str, deliveries: int) -> None:
        """Move a request that cannot be handled to `{ns}:dead:{address}` and tell its caller why."""
        s = self.settings
        peek = _peek(raw)
        reply_key, reply = "", ""
        info = ErrorInfo(
            address=address, type=kind, message=text, run_id=peek.get("run_id") or "", path=peek.get("path") or ""
        )
        if peek.get("reply_to") and peek.get("id"):
            reply_key = self.keys.reply(str(peek["reply_to"]))
            reply = Message.model_construct(
                id=f"dead-{entry_id}",
                kind="error",
                sender=address,
                recipient=str(peek["reply_to"]),
                reply_to=None,
                correlation_id=str(peek["id"]),
                parent_id=None,
                run_id=info.run_id,
                session="default",
                path=info.path,
                created_at=time.time(),
                data={},
                error=info,
                v=1,
            ).to_json()
        dead = (
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
        commands = answer_commands(
            self.keys,
            address,
            entry_id,
            self.keys.notify_of(reply_key) if reply_key else "",
            reply,
            str(peek.get("id") or entry_id),
            int(s.processed_ttl * 1000),
        )
        commands.insert(1, dead)  # in the same transaction as the answer and the ack
        log.warning("dead-lettered %s on %s: %s: %s", entry_id, address, kind, text)
        _check_transaction((await self._write(commands, "dead-lettering a request"))[-1])

    async def _write(self, commands: list[Command], what: str) -> list[Any]:
        """Send commands in one write, again while Redis is away (a transaction that did not reach
        EXEC ran nothing); error replies come back in place."""
        replies: list[Any] = await retrying(
            lambda: self.fast.execute_many(commands, raise_errors=False),
            what=what,
            closed=lambda: False,
            backoff_max=self.settings.backoff_max,
        )
        return replies


def answer_commands(
    keys: Keys, address: str, entry_id: str, channel: str, reply: bytes | str, request_id: str, processed_ttl_ms: int
) -> list[Command]:
    """Answer a request and ack it, as one MULTI/EXEC: keep the answer under the request's `done` key
    (for the caller, should it miss the message, and for redelivered duplicates), publish it on the
    caller's channel, then ack and delete the inbox entry. With no reply (nobody waits), only the ack."""
    inbox = keys.inbox(address)
    answer: list[Command] = []
    if reply:
        answer = [("SET", keys.done(request_id), reply, "PX", processed_ttl_ms), ("PUBLISH", channel, reply)]
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


def _check_transaction(done: Any) -> None:
    """Raise the error of a refused transaction (EXECABORT), or of a command in it that failed."""
    if isinstance(done, Exception):
        raise done
    for reply in done:
        if isinstance(reply, Exception):
            raise reply
