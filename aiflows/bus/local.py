"""The embedded default: every address lives in this process and a request is an await away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ..exceptions import ConfigError
from ..messages import ErrorInfo, Message
from .base import Caller, EventListener, Handler, Listeners, unwrap

__all__ = ["LocalBus"]

log = logging.getLogger("aiflows.bus")


class LocalBus:
    """In-process bus.

    A request runs the recipient's handler in the caller's task, so a call costs one await,
    and a caller's timeout or cancellation reaches the callee with no extra machinery.
    Fire-and-forget sends run as tasks owned by the bus; `close()` waits for them.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._callers: dict[str, Caller] = {}
        self._listeners = Listeners()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        self._closed = False

    async def close(self) -> None:
        """Wait for fire-and-forget work still running, then refuse new sends."""
        self._closed = True
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def serve(self, address: str, handler: Handler, *, call: Caller | None = None) -> None:
        if self._handlers.get(address, handler) is not handler:
            raise ConfigError(f"address '{address}' is already served by another flow")
        self._handlers[address] = handler
        self._callers[address] = call if call is not None else _caller_of(handler)

    def serves(self, address: str) -> bool:
        return address in self._handlers

    def request(self, message: Message) -> Awaitable[Message]:
        """The recipient's handler, called on the caller's await: no coroutine of the bus's own in between."""
        handler = self._handlers.get(message.recipient)
        if handler is None:
            return _answered(message.fail(self._unknown(message)))
        return handler(message)

    def call(self, message: Message) -> Awaitable[dict[str, Any]]:
        """The recipient's output, from the caller that its host gave (no answer message in between)."""
        caller = self._callers.get(message.recipient)
        if caller is None:
            return _raised(self._unknown(message))
        return caller(message)

    async def send(self, message: Message) -> None:
        if self._closed:
            raise RuntimeError("the bus is closed")
        task = asyncio.get_running_loop().create_task(self._deliver(message), name=f"send:{message.recipient}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: Message) -> None:
        answer = await self.request(message)
        if answer.kind == "error" and answer.error is not None:
            log.warning("fire-and-forget request to %s failed: %s", message.recipient, answer.error.message)

    def publish(self, event: Message) -> None:
        self._listeners.dispatch(event)

    def listen(self, run_id: str, listener: EventListener) -> Callable[[], None]:
        return self._listeners.add(run_id, listener)

    def _unknown(self, message: Message) -> ErrorInfo:
        served = ", ".join(sorted(self._handlers)) or "none"
        return ErrorInfo(
            address=message.recipient,
            type="UnknownAddress",
            message=f"no flow is served at '{message.recipient}' (served here: {served})",
            run_id=message.run_id,
            path=message.path,
        )


async def _answered(answer: Message) -> Message:
    return answer


async def _raised(error: ErrorInfo) -> dict[str, Any]:
    raise error.to_exception()


def _caller_of(handler: Handler) -> Caller:
    async def call(message: Message) -> dict[str, Any]:
        return unwrap(await handler(message))

    return call
