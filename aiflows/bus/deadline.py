"""Time budgets that travel with requests across processes.

`asyncio.timeout` bounds the caller's wait; `within` does that too and also stamps the deadline
on every request made inside it, so a worker on another machine does not start work whose
caller has already given up, and stops work that runs past it. A handler's own calls inherit
the deadline of the request it serves.

    async with within(5):
        out = await runtime.call("slow/address", {"x": 1})
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

__all__ = ["current_deadline", "within"]

_deadline: ContextVar[float | None] = ContextVar("aiflows_deadline", default=None)


def current_deadline() -> float | None:
    """The wall-clock time (epoch seconds) by which the current work must finish, if any."""
    return _deadline.get()


@asynccontextmanager
async def within(seconds: float) -> AsyncIterator[None]:
    """Like `asyncio.timeout(seconds)`, and requests sent inside carry the deadline.

    Raises:
        TimeoutError: the block did not finish in time (its remote requests are cancelled).
    """
    if seconds <= 0:
        raise ValueError(f"within() needs a positive number of seconds, not {seconds}")
    outer = _deadline.get()
    deadline = time.time() + seconds
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        async with asyncio.timeout(seconds):
            yield
    finally:
        _deadline.reset(token)


def set_deadline(deadline: float | None) -> object:
    """For transports: run the handler of a request under that request's deadline."""
    return _deadline.set(deadline)


def reset_deadline(token: object) -> None:
    _deadline.reset(token)  # type: ignore[arg-type]
