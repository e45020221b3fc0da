"""Records that travel with a message instead of costing a round trip of their own.

With an answer: a worker answers a request with one transaction (remembered answer, published
answer, ack). A store on the same Redis deployment hands the records of that request (journal
entry, span, a root request's run end) to the worker instead of writing them itself: they go out
in the same write, just before the transaction, and land with the answer (Redis runs one connection's
commands in order): a crash before that write reruns the request and writes them then; nothing
after it can lose them.

With a request: a caller's store hands a new run's start record to the run's first request,
which carries it in the same write as the XADD. If no request of that deployment takes it, the
store writes it itself a moment later. The request says it carried one (field `s`): the start
landed before the request did, so the worker's store need not guard the run's index and expiry
when it writes the run's end.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["AnswerWrites", "Carried", "begin", "defer", "offer", "start_came_with", "take_offered"]


@dataclass(slots=True)
class AnswerWrites:
    """The commands to run with one request's answer, on one deployment."""

    deployment: tuple[str, str]  # (Redis URL, namespace) the answer goes to
    commands: list[tuple[Any, ...]] = field(default_factory=list)
    open: bool = True
    start_of: str | None = None  # the run whose start record came in the same write as the request

    def take(self) -> list[tuple[Any, ...]]:
        """Close the batch (later records are written by their store) and return it."""
        self.open = False
        commands, self.commands = self.commands, []
        return commands


_writes: ContextVar[AnswerWrites | None] = ContextVar("aiflows_answer_writes", default=None)


def begin(deployment: tuple[str, str], start_of: str | None = None) -> AnswerWrites:
    """Start collecting the records of the request handled in this task (`start_of`: the run whose
    start record the request carried)."""
    writes = AnswerWrites(deployment, start_of=start_of)
    _writes.set(writes)
    return writes


def start_came_with(deployment: tuple[str, str], run_id: str) -> bool:
    """Whether the request handled here came in one write with `run_id`'s start record, which has
    landed then: the start set the run's expiry and put it in the index."""
    writes = _writes.get()
    return writes is not None and writes.start_of == run_id and writes.deployment == deployment


def defer(deployment: tuple[str, str], *commands: tuple[Any, ...]) -> bool:
    """Hand `commands` to the answer of the request handled here; False when they must be written now."""
    writes = _writes.get()
    if writes is None or not writes.open or writes.deployment != deployment:
        return False
    writes.commands.extend(commands)
    return True


@dataclass(slots=True)
class Carried:
    """Commands a store offers to the next request sent from this task."""

    deployment: tuple[str, str]
    commands: list[tuple[Any, ...]]
    failed: Callable[[], None]  # called by the carrier when they did not land: the store writes them again
    taken: bool = False


_offered: ContextVar[Carried | None] = ContextVar("aiflows_offered_writes", default=None)


def offer(carried: Carried) -> None:
    """Let the next request this task sends to `carried.deployment` carry these commands."""
    _offered.set(carried)


def take_offered(deployment: tuple[str, str]) -> Carried | None:
    """The commands offered to a request to `deployment`, now taken (nobody else writes them)."""
    carried = _offered.get()
    if carried is None or carried.taken or carried.deployment != deployment:
        return None
    _offered.set(None)
    carried.taken = True
    return carried
