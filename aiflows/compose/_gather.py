"""Run many calls at once, starting each one eagerly.

A call to a flow in this process often finishes without ever waiting; creating a task for it
would cost more than the call. So each call runs in its own context copy until it first
waits, and only then becomes a task (what Python 3.12's eager tasks do). Failures cancel the
rest and the first one is raised, unwrapped.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Awaitable, Coroutine, Generator
from typing import Any

__all__ = ["Call", "gather_calls"]

Call = Awaitable[dict[str, Any]]
_Coro = Coroutine[Any, Any, dict[str, Any]]


class _Resume:
    """Await an already-started coroutine from the point where it first yielded."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: _Coro, first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, dict[str, Any]]:
        coro, message = self.coro, self.first
        while True:
            try:
                value = yield message
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - cancellation is passed on to the call
                try:
                    message = coro.throw(exc)
                except StopIteration as stop:
                    result: dict[str, Any] = stop.value
                    return result
            else:
                try:
                    message = coro.send(value)
                except StopIteration as stop:
                    answer: dict[str, Any] = stop.value
                    return answer


async def _finish(coro: _Coro, first: Any, results: list[Any], index: int) -> None:
    results[index] = await _Resume(coro, first)


async def _limited(call: Call, semaphore: asyncio.Semaphore) -> dict[str, Any]:
    async with semaphore:
        return await call


async def _awaited(call: Call) -> dict[str, Any]:
    return await call


async def gather_calls(awaitables: list[Call], limit: int | None = None) -> list[dict[str, Any]]:
    """Await all calls (at most `limit` at a time) and return their results in order."""
    calls = [c if inspect.iscoroutine(c) else _awaited(c) for c in awaitables]
    results: list[Any] = [None] * len(calls)
    semaphore = asyncio.Semaphore(limit) if limit is not None and limit < len(calls) else None
    started = 0
    try:
        async with asyncio.TaskGroup() as group:
            for index, call in enumerate(calls):
                started = index + 1
                if semaphore is not None:
                    group.create_task(_finish(_limited(call, semaphore), None, results, index))
                    continue
                context = contextvars.copy_context()
                try:
                    first = context.run(call.send, None)
                except StopIteration as stop:
                    results[index] = stop.value
                    continue
                group.create_task(_finish(call, first, results, index), context=context)
    except BaseExceptionGroup as failures:
        raise _first(failures) from None
    finally:
        for call in calls[started:]:
            if inspect.getcoroutinestate(call) == inspect.CORO_CREATED:
                call.close()  # never started because an earlier call failed
    return results


def _first(group: BaseExceptionGroup) -> BaseException:
    leaf = group.exceptions[0]
    return _first(leaf) if isinstance(leaf, BaseExceptionGroup) else leaf
