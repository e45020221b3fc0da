"""What a handler sees of the world: its state, its run, and a way to call its subflows.

Every call goes through `Context.call`, which is where the run journal lives: a call whose
answer is already journaled returns it at once, so a resumed handler replays up to the first
call it has not made yet and continues live from there.
"""

from __future__ import annotations

import os
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar, Token
from typing import Any, Protocol

from pydantic import BaseModel

from .exceptions import AiflowsError, ConfigError, FlowError
from .messages import Message, make_request
from .records import JournalEntry

__all__ = [
    "Context",
    "FlowHost",
    "NondeterminismError",
    "RunJournal",
    "current_context",
    "reset_current_context",
    "set_current_context",
    "to_payload",
]


class FlowHost(Protocol):
    """What a Context needs from whoever hosts its flow; `aiflows.runtime.host.Host` is one.

    The runtime sits above this layer: it hands its host to each Context it makes, so a handler
    reaches the rest of the world through this interface and this module never imports the runtime.
    """

    @property
    def address(self) -> str:
        """Where the hosted flow is reached."""

    @property
    def flow(self) -> object:
        """The hosted flow (the `Flow` object whose handler runs)."""

    @property
    def subflow_addresses(self) -> Mapping[str, str]:
        """The address of each subflow, by the name the flow calls it."""

    @property
    def runtime(self) -> Any:
        """The runtime hosting the flow (an `aiflows.runtime.Runtime`, named loosely from down here)."""

    @property
    def call_flow(self) -> Callable[[Message], Awaitable[dict[str, Any]]]:
        """Send a request to the flow it is addressed to; await that flow's output (or its `FlowError`)."""

    def publish_event(self, event: Message) -> None:
        """Record and send an event to whoever listens to its run."""


class RunJournal(Protocol):
    """The journal of the run a handler is in: the answers of calls already made, by call path."""

    @property
    def journaling(self) -> bool:
        """Whether answers are recorded (and so replayed on resume)."""

    @property
    def journal(self) -> Mapping[str, JournalEntry]:
        """The entries recorded so far (loaded once per run in this process)."""

    def record(self, path: str, entry: JournalEntry) -> None:
        """Keep `entry` as the answer at `path`, here and in the run's store."""


# The context of the handler running in this task. A ContextVar because asyncio must carry it:
# a subflow's handler runs in the caller's task (or a copy of its context), and a handler that
# calls `self.call(...)` finds its own context here without being handed it.
_current: ContextVar[Context | None] = ContextVar("aiflows_context", default=None)

# How a host sets the current context around a handler and restores it after (bound methods of the
# ContextVar, called directly: this is every hop).
set_current_context: Callable[[Context | None], Token[Context | None]] = _current.set
reset_current_context: Callable[[Token[Context | None]], None] = _current.reset


class NondeterminismError(AiflowsError):
    """A resumed handler made a different call than the journal recorded at the same place."""


def current_context() -> Context:
    """The context of the handler running in this task."""
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("no flow is running here: call subflows from inside a handler (or use Runtime.call)")
    return ctx


def to_payload(data: Any) -> dict[str, Any]:
    """A flow's data as a dict: a dict as it is, a pydantic model dumped to JSON values."""
    if isinstance(data, dict):
        return data
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    raise TypeError(f"a flow's data must be a dict or a pydantic model, not {type(data).__name__}")


class Context:
    """One handler invocation: (flow address, session) in one run."""

    __slots__ = ("_calls", "_clock", "_host", "_random", "_run", "request", "state")

    def __init__(self, host: FlowHost, run: RunJournal, request: Message, state: BaseModel | None) -> None:
        self._host = host
        self._run = run
        self.request = request
        self.state = state
        self._calls = 0
        self._clock = 0
        self._random: _random.Random | None = None

    @property
    def address(self) -> str:
        return self._host.address

    @property
    def runtime(self) -> Any:
        """The runtime hosting this flow (an `aiflows.runtime.Runtime`): for capabilities that keep
        their own records beside its store."""
        return self._host.runtime

    def belongs_to(self, flow: object) -> bool:
        """Whether this is an invocation of `flow`'s own handler (`Flow.call` checks its caller with it)."""
        return self._host.flow is flow

    @property
    def run_id(self) -> str:
        return self.request.run_id

    @property
    def session(self) -> str:
        return self.request.session

    @property
    def path(self) -> str:
        return self.request.path

    @property
    def input(self) -> dict[str, Any]:
        """The request's data as received, before validation."""
        return self.request.data

    def subflow_names(self) -> list[str]:
        return list(self._host.subflow_addresses)

    def call(self, name: str, data: Any, *, session: str | None = None) -> Awaitable[dict[str, Any]]:
        """Call the subflow `name` with `data`; await the result to get its output as a dict.

        The call's journal key is taken here, before the await, so calls started together
        (a fan-out) get keys in the order they were written, whatever order they finish in.

        Raises:
            FlowError: the subflow answered with an error (or did not answer in time).
            ConfigError: this flow has no subflow of that name.
        """
        address = self._host.subflow_addresses.get(name)
        if address is None:
            known = ", ".join(self._host.subflow_addresses) or "none"
            raise ConfigError(f"flow '{self.address}' has no subflow '{name}' (its subflows: {known})")
        # Fields read from the instance dict: a pydantic model defines `__getattr__` (for private and
        # extra attributes; a field never reaches it), and that alone keeps Python from specialising
        # attribute reads on it, so `request.path` costs about twice a dict lookup.
        asked = self.request.__dict__
        path = f"{asked['path']}/{self._calls}"
        self._calls += 1
        run = self._run
        if run.journaling:
            entry = run.journal.get(path)
            if entry is not None:
                return self._replayed(entry, address, path)
        if type(data) is not dict:
            return self._call(address, path, data, session)
        request = make_request(
            self._host.address, address, data, asked["run_id"], session or asked["session"], path, asked["id"]
        )
        return self._host.call_flow(request)  # its host journals the answer

    async def _call(self, address: str, path: str, data: Any, session: str | None) -> dict[str, Any]:
        """A call with data that is not a dict yet: converted when awaited, so a bad value fails the call."""
        asked = self.request.__dict__
        request = make_request(
            self._host.address,
            address,
            to_payload(data),
            asked["run_id"],
            session or asked["session"],
            path,
            asked["id"],
        )
        return await self._host.call_flow(request)

    async def _replayed(self, entry: JournalEntry, address: str, path: str) -> dict[str, Any]:
        return self._replay(entry, address, path)

    def _replay(self, entry: JournalEntry, address: str, path: str) -> dict[str, Any]:
        """The journaled answer of this call, raised again if it was an error."""
        if entry.address != address:
            raise NondeterminismError(
                f"flow '{self.address}' called '{address}' at {path} on resume, "
                f"but the journal recorded a call to '{entry.address}' there: handlers must be deterministic"
            )
        if entry.error is not None:
            raise FlowError.from_dict(entry.error)
        output: dict[str, Any] = entry.data  # a call's journaled answer is its output
        return output

    def emit(self, kind: str, data: dict[str, Any] | None = None) -> None:
        """Send an event (a streamed token, usage, progress) to whoever listens to this run."""
        self._host.publish_event(self.request.event(kind, data or {}))

    @property
    def random(self) -> _random.Random:
        """A random generator whose seed is journaled, so a resumed handler draws the same numbers."""
        if self._random is None:
            seed = self._journaled(f"{self.request.path}/random", lambda: int.from_bytes(os.urandom(8), "big"))
            self._random = _random.Random(seed)
        return self._random

    def now(self) -> float:
        """Wall-clock time, journaled: a resumed handler reads the same clock it read before."""
        key = f"{self.request.path}/now{self._clock}"
        self._clock += 1
        clock: float = self._journaled(key, time.time)
        return clock

    def _journaled(self, key: str, make: Callable[[], Any]) -> Any:
        run = self._run
        entry = run.journal.get(key) if run.journaling else None
        if entry is not None:
            return entry.data
        value = make()
        if run.journaling:
            run.record(key, JournalEntry(self.address, value))
        return value
