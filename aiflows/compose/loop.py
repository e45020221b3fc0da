"""A body repeated until a condition holds or a bound is reached: the paper's circular flows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..context import Context
from ..exceptions import ConfigError
from ..flow import CompositeFlow, Flow
from ..keymap import get_path
from .step import Step, as_steps

__all__ = ["Condition", "Loop", "as_condition"]

Condition = Callable[[dict[str, Any]], bool]


def as_condition(spec: Condition | str | dict[str, Any] | None, owner: str) -> Condition | None:
    """A callable, a key whose value must be truthy, or `{"key": k, "equals": v}`."""
    if spec is None or callable(spec):
        return spec
    if isinstance(spec, str):
        return lambda data: bool(get_path(data, spec, False))
    if isinstance(spec, dict) and set(spec) == {"key", "equals"}:
        key, expected = spec["key"], spec["equals"]
        return lambda data: get_path(data, key, None) == expected
    raise ConfigError(f"'{owner}': a condition is a function, a key name or {{key:, equals:}}, not {spec!r}")


class Loop(CompositeFlow):
    """Run `body` again and again on the data (its output merged in each round) until `until`
    holds after a round or `max_rounds` rounds have run. The body always runs at least once.
    A loop must be bounded: `max_rounds` is required.
    """

    def __init__(
        self,
        body: Flow | Step | str,
        *,
        max_rounds: int | None = None,
        until: Condition | str | dict[str, Any] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        name = name or "loop"
        if max_rounds is None:
            raise ConfigError(f"Loop '{name}' has no bound: give max_rounds (and optionally until=)")
        if not isinstance(max_rounds, int) or max_rounds < 1:
            raise ConfigError(f"Loop '{name}': max_rounds must be a positive integer, not {max_rounds!r}")
        (self.body,) = as_steps(name, [body])
        self.max_rounds = max_rounds
        self.until = as_condition(until, name)
        super().__init__(subflows={self.body.label: self.body.flow}, name=name, **kwargs)

    async def handle(self, ctx: Context, data: Any) -> dict[str, Any]:
        current = dict(ctx.input)
        for _ in range(self.max_rounds):
            output = await ctx.call(self.body.label, self.body.input_for(current))
            current = self.body.merge_output(current, output)
            if self.until is not None and self.until(current):
                break
        return current
