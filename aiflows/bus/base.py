"""What a bus is: it delivers requests to whoever serves an address, and events to whoever listens to a run."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

from ..messages import Message

__all__ = ["Bus", "Caller", "EventListener", "Handler", "Listeners", "unwrap"]

log = logging.getLogger("aiflows.bus")

Handler = Callable[[Message], Awaitable[Message]]
"""Takes a request, returns its reply or error message. Never raises for a flow's own failure."""

Caller = Callable[[Message], Awaitable[dict[str, Any]]]
"""Takes a request, returns its output; raises `FlowError` for the flow's failure."""

EventListener = Callable[[Message], None]


@runtime_checkable
class Bus(Protocol):
    """The transport between flows.

    Flow code never sees the bus: a runtime hosts flows on it and makes calls through it, so an
    in-process `LocalBus` and a `RedisBus` are interchangeable.
    """

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def serve(self, address: str, handler: Handler, *, call: Caller | None = None) -> None:
        """Route requests for `address` to `handler`; `call`, when given, is the same handler giving the
        output itself (or raising), for callers in this process."""

    def request(self, message: Message) -> Awaitable[Message]:
        """Deliver a request and wait for its reply or error."""

    def call(self, message: Message) -> Awaitable[dict[str, Any]]:
        """Deliver a request and wait for its output; its error is raised as `FlowError`."""

    async def send(self, message: Message) -> None:
        """Deliver a request and do not wait: its answer is dropped (the trace keeps it)."""

    def publish(self, event: Message) -> None:
        """Deliver an event to the listeners of `event.run_id` without waiting (it may buffer)."""

    def listen(self, run_id: str, listener: EventListener) -> Callable[[], None]:
        """Call `listener` with each event of the run until the returned function is called."""


class Listeners:
    """Event listeners by run id: what every bus keeps for `listen`."""

    def __init__(self) -> None:
        self._by_run: dict[str, list[EventListener]] = {}

    def add(self, run_id: str, listener: EventListener) -> Callable[[], None]:
        """Register `listener`; the returned function removes it."""
        self._by_run.setdefault(run_id, []).append(listener)

        def stop() -> None:
            listeners = self._by_run.get(run_id, [])
            if listener in listeners:
                listeners.remove(listener)
            if not listeners:
                self._by_run.pop(run_id, None)

        return stop

    def dispatch(self, event: Message) -> None:
        if not self._by_run:  # nobody listens to any run, the usual case: an event costs no lookup
            return
        for listener in list(self._by_run.get(event.run_id, ())):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - one bad listener must not stop the others, nor the bus
                log.exception("an event listener of run %s failed", event.run_id)


def unwrap(answer: Message) -> dict[str, Any]:
    """What a caller gets from an answer: its output, or its error raised as `FlowError`."""
    if answer.kind == "error" and answer.error is not None:
        raise answer.error.to_exception()
    return answer.data
