"""Fan out to several subflows at once and gather their answers."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..exceptions import ConfigError
from ..flow import CompositeFlow, Flow
from ._gather import Call, gather_calls
from .step import Step, as_steps

__all__ = ["Map", "Parallel"]


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
        super().__init__(subflows={s.label: s.flow for s in self.branches}, name=name, **kwargs)

    async def handle(self, ctx: Context, data: Any) -> dict[str, Any]:
        current = ctx.input
        calls: list[Call] = [ctx.call(s.label, s.input_for(current)) for s in self.branches]
        outputs = await gather_calls(calls, self.max_concurrency)
        return {s.label: s.output_for(out) for s, out in zip(self.branches, outputs, strict=True)}


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
        calls: list[Call] = [ctx.call("each", i if isinstance(i, dict) else {self.item_key: i}) for i in items]
        return {self.into: await gather_calls(calls, self.max_concurrency)}
