"""Fan out to several subflows at once and gather their answers."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine
from typing import Any

from ..context import Context
from ..exceptions import ConfigError
from ..flow import CompositeFlow, Flow
from .step import Step, as_steps

__all__ = ["Map", "Parallel"]


Call = Coroutine[Any, Any, dict[str, Any]]


async def _bounded(calls: list[Call], limit: int | None) -> list[dict[str, Any]]:
    """Await all calls, at most `limit` at a time; the first failure cancels the rest and is raised."""
    semaphore = asyncio.Semaphore(limit) if limit else None

    async def one(call: Call) -> dict[str, Any]:
        try:
            if semaphore is None:
                return await call
            async with semaphore:
                return await call
        finally:
            if inspect.getcoroutinestate(call) == inspect.CORO_CREATED:
                call.close()  # cancelled while waiting for a slot: it never started

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(call)) for call in calls]
    except BaseExceptionGroup as failures:
        raise _first(failures) from None
    return [task.result() for task in tasks]


def _first(group: BaseExceptionGroup) -> BaseException:
    leaf = group.exceptions[0]
    return _first(leaf) if isinstance(leaf, BaseExceptionGroup) else leaf


def _check_limit(name: str, limit: int | None) -> None:
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"'{name}': max_concurrency must be a positive integer or None, not {limit!r}")


class Parallel(CompositeFlow):
    """Call every branch with the caller's data at once; answer `{branch name: its output}`.

    A failing branch cancels the others and its error reaches the caller.
    """

    def __init__(
        self,
        branches: dict[str, Flow | Step | str] | list[Flow | Step | str],
        *,
        max_concurrency: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        name = name or "parallel"
        _check_limit(name, max_concurrency)
        self.branches = as_steps(name, branches)
        self.max_concurrency = max_concurrency
        super().__init__(subflows={s.name: s.flow for s in self.branches}, name=name, **kwargs)  # type: ignore[misc]

    async def handle(self, ctx: Context, data: Any) -> dict[str, Any]:
        current = ctx.input
        calls: list[Call] = [ctx.call(s.name, s.input_for(current)) for s in self.branches]  # type: ignore[misc]
        outputs = await _bounded(calls, self.max_concurrency)
        return {
            s.name: (s.outputs.apply(out) if s.outputs is not None else out)  # type: ignore[union-attr]
            for s, out in zip(self.branches, outputs, strict=True)
        }


class Map(CompositeFlow):
    """Call one flow on every item of the list at `over`; answer `{into: [outputs in order]}`.

    Items that are dicts are the flow's input; other items are passed as `{item_key: item}`.
    """

    def __init__(
        self,
        flow: Flow | str,
        *,
        over: str = "items",
        into: str = "results",
        item_key: str = "item",
        max_concurrency: int | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        name = name or "map"
        _check_limit(name, max_concurrency)
        self.over, self.into, self.item_key = over, into, item_key
        self.max_concurrency = max_concurrency
        super().__init__(subflows={"each": flow}, name=name, **kwargs)

    async def handle(self, ctx: Context, data: Any) -> dict[str, Any]:
        items = ctx.input.get(self.over)
        if not isinstance(items, list):
            raise ConfigError(f"Map '{self.name}' expects a list at '{self.over}', got {type(items).__name__}")
        calls: list[Call] = [ctx.call("each", i if isinstance(i, dict) else {self.item_key: i}) for i in items]  # type: ignore[misc]
        return {self.into: await _bounded(calls, self.max_concurrency)}
