"""Steps one after another, each reading from and adding to the data so far."""

from __future__ import annotations

from typing import Any

from ..context import Context
from ..flow import CompositeFlow, Flow
from .step import Step, as_steps

__all__ = ["Sequential"]


class Sequential(CompositeFlow):
    """Run steps in order. The data starts as the input; each step's output is merged into it.

    Sequential(Parse(), Step(Solve(), inputs={"question": "parsed"}), name="pipeline")
    """

    def __init__(self, *steps: Flow | Step | str, name: str | None = None, **kwargs: Any) -> None:
        name = name or "sequential"
        self.steps = as_steps(name, list(steps))
        super().__init__(subflows={s.label: s.flow for s in self.steps}, name=name, **kwargs)

    async def handle(self, ctx: Context, data: Any) -> dict[str, Any]:
        current = dict(ctx.input)
        for step in self.steps:  # steps without key maps skip the calls that apply them: this is every hop
            output = await ctx.call(step.label, step.input_for(current))
            current = {**current, **output} if step.outputs is None else step.merge_output(current, output)
        return current
