"""Records that land with an answer: a request's run record, journal entry and span.

A worker answers a request with one atomic script (reply, remembered answer, ack). A store on
the same Redis deployment hands the records of that request to the worker instead of writing
them itself: they go out in the same write, just before the script, so they cost no round trip
of their own and land with the answer (Redis runs one connection's commands in order): a crash
before that write reruns the request and writes them then; nothing after it can lose them.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AnswerWrites", "begin", "defer"]


@dataclass(slots=True)
class AnswerWrites:
    """The commands to run with one request's answer, on one deployment."""

    deployment: tuple[str, str]  # (Redis URL, namespace) the answer goes to
    commands: list[tuple[Any, ...]] = field(default_factory=list)
    open: bool = True

    def take(self) -> list[tuple[Any, ...]]:
        """Close the batch (later records are written by their store) and return it."""
        self.open = False
        commands, self.commands = self.commands, []
        return commands


_writes: ContextVar[AnswerWrites | None] = ContextVar("aiflows_answer_writes", default=None)


def begin(deployment: tuple[str, str]) -> AnswerWrites:
    """Start collecting the records of the request handled in this task."""
    writes = AnswerWrites(deployment)
    _writes.set(writes)
    return writes


def defer(deployment: tuple[str, str], *commands: tuple[Any, ...]) -> bool:
    """Hand `commands` to the answer of the request handled here; False when they must be written now."""
    writes = _writes.get()
    if writes is None or not writes.open or writes.deployment != deployment:
        return False
    writes.commands.extend(commands)
    return True
