"""Records that travel with a request or an answer instead of costing a round trip of their own.

With an answer: a worker answers a request with one transaction (remembered answer, published
answer, ack). A store on the same Redis deployment hands the records of that request (journal
entry, span, a root request's run end) to the request's `Delivery` instead of writing them itself:
they go out in the same write, just before the transaction, and land with the answer (Redis runs
one connection's commands in order): a crash before that write reruns the request and writes them
then; nothing after it can lose them.

With a request: a caller's store offers a new run's start record to the run's first request,
which carries it in the same write as the XADD. If no request takes it, the store writes it
itself a moment later. The request says it carried one (field `s`): the start landed before the
request did, so the worker's store need not guard the run's index and expiry when it writes the
run's end. A request that carries its run's start is that run's first: it also says the run is
fresh (field `f`), so the worker skips loading a journal that cannot exist yet, and so do the
workers of the calls its handler makes.

A `RedisBus` owns one `Deliveries`; a `RedisStore` of the same deployment is paired with it by the
runtime (`RedisStore.pair`) and gives to it and asks it, by request id and run id: nothing travels
behind the caller's back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Carried", "Deliveries", "Delivery"]

Command = tuple[Any, ...]


@dataclass(slots=True, eq=False)
class Delivery:
    """One request being handled by this worker, and the commands to run with its answer."""

    request_id: str
    run_id: str
    fresh: bool  # the run's first execution: nothing of it is journaled yet
    start_landed: bool  # the request came in one write with its run's start record
    commands: list[Command] = field(default_factory=list)
    open: bool = True

    def take(self) -> list[Command]:
        """Close the batch (later records are written by their store) and return it."""
        self.open = False
        commands, self.commands = self.commands, []
        return commands


@dataclass(slots=True, eq=False)
class Carried:
    """Commands a store offers to the first request of a run (its start record)."""

    commands: list[Command]
    failed: Callable[[], None]  # called by the carrier when they did not land: the store writes them again
    fresh: bool = True  # the store made the run just now: nothing of it is journaled
    taken: bool = False


class Deliveries:
    """The requests a bus is handling here and the records offered to the requests it sends.

    The bus's server begins and ends a `Delivery` around each handler; the bus takes what is
    offered to a request when it sends it. A paired store defers records to a delivery, asks
    whether a run is fresh or its start landed, and offers a new run's start.
    """

    __slots__ = ("_fresh_runs", "_handling", "_offered", "deployment")

    def __init__(self, deployment: tuple[str, str]) -> None:
        self.deployment = deployment  # (Redis URL, namespace): a store pairs only with its own deployment
        self._handling: dict[str, Delivery] = {}  # request id -> the delivery being handled here
        self._fresh_runs: dict[str, int] = {}  # run id -> fresh deliveries of it being handled here
        self._offered: dict[str, Carried] = {}  # run id -> its start, for its first request

    # -- the server ---------------------------------------------------------------------------
    def begin(self, request_id: str, run_id: str, *, fresh: bool, start_landed: bool) -> Delivery:
        """A request's handler is about to run: collect its records from now on."""
        delivery = Delivery(request_id, run_id, fresh, start_landed)
        self._handling[request_id] = delivery
        if fresh:
            self._fresh_runs[run_id] = self._fresh_runs.get(run_id, 0) + 1
        return delivery

    def end(self, delivery: Delivery) -> list[Command]:
        """The handler returned: the records that go out with its answer (later ones are written by their store)."""
        if self._handling.get(delivery.request_id) is delivery:
            del self._handling[delivery.request_id]
        self._not_fresh(delivery)
        return delivery.take()

    def _not_fresh(self, delivery: Delivery) -> None:
        if not delivery.fresh:
            return
        delivery.fresh = False
        left = self._fresh_runs[delivery.run_id] - 1
        if left:
            self._fresh_runs[delivery.run_id] = left
        else:
            del self._fresh_runs[delivery.run_id]

    # -- the sending bus ----------------------------------------------------------------------
    def calls_from_fresh(self, parent_id: str | None) -> bool:
        """Whether a call made by the handler of request `parent_id` belongs to a fresh run."""
        delivery = self._handling.get(parent_id) if parent_id else None
        return delivery is not None and delivery.fresh

    def take_offered(self, run_id: str) -> Carried | None:
        """The records offered to the first request of `run_id`, now taken (nobody else writes them)."""
        carried = self._offered.pop(run_id, None)
        if carried is None or carried.taken:
            return None
        carried.taken = True
        return carried

    # -- the paired store ---------------------------------------------------------------------
    def offer(self, run_id: str, carried: Carried) -> None:
        """Let the first request of `run_id` this bus sends carry these commands."""
        self._offered[run_id] = carried

    def withdraw(self, run_id: str) -> None:
        """The store wrote the offered commands itself: no request carries them any more."""
        self._offered.pop(run_id, None)

    def defer(self, request_id: str, *commands: Command) -> bool:
        """Hand `commands` to the answer of request `request_id`; False when they must be written now."""
        delivery = self._handling.get(request_id)
        if delivery is None or not delivery.open:
            return False
        delivery.commands.extend(commands)
        return True

    def start_landed(self, request_id: str, run_id: str) -> bool:
        """Whether request `request_id`, handled here, came in one write with `run_id`'s start record,
        which has landed then: the start set the run's expiry and put it in the index."""
        delivery = self._handling.get(request_id)
        return delivery is not None and delivery.start_landed and delivery.run_id == run_id

    def fresh_run(self, run_id: str) -> bool:
        """Whether a request of `run_id` in the run's first execution is being handled here."""
        return run_id in self._fresh_runs

    def journal_read(self, run_id: str) -> None:
        """A journal of `run_id` was read here: what its handlers call may be journaled already."""
        if run_id in self._fresh_runs:
            for delivery in self._handling.values():
                if delivery.run_id == run_id:
                    self._not_fresh(delivery)
