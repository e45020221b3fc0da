"""A router picks one of several subflows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..context import Context
from ..exceptions import ConfigError, FlowError
from ..flow import CompositeFlow, Flow
from ..keymap import get_path
from .step import Step, as_steps

__all__ = ["Branch"]

ROUTER = "router"


class Branch(CompositeFlow):
    """Call the branch the router names, with the caller's data; answer with its output.

    `router` is a function of the data, the name of a key whose value names the branch, or a
    flow (called as subflow "router") whose output has a `branch` key.
    """

    def __init__(
        self,
        router: Callable[[dict[str, Any]], str] | str | Flow,
        branches: dict[str, Flow | Step | str],
        *,
        default: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        name = name or "branch"
        if not branches:
            raise ConfigError(f"Branch '{name}' has no branches")
        self.branches = {s.label: s for s in as_steps(name, branches)}
        if default is not None and default not in self.branches:
            raise ConfigError(f"Branch '{name}': default '{default}' is not one of {list(self.branches)}")
        if ROUTER in self.branches and isinstance(router, Flow):
            raise ConfigError(f"Branch '{name}': '{ROUTER}' names the router flow; rename that branch")
        self.router = router
        self.default = default
        subflows: dict[str, Flow | str] = {k: s.flow for k, s in self.branches.items()}
        if isinstance(router, Flow):
            subflows[ROUTER] = router
        super().__init__(subflows=subflows, name=name, **kwargs)

    async def _route(self, ctx: Context, data: dict[str, Any]) -> str:
        if isinstance(self.router, Flow):
            return str((await ctx.call(ROUTER, data)).get("branch"))
        if isinstance(self.router, str):
            return str(get_path(data, self.router, None))
        return str(self.router(data))

    async def handle(self, ctx: Context, data: Any) -> dict[str, Any]:
        current = dict(ctx.input)
        choice = await self._route(ctx, current)
        if choice not in self.branches:
            if self.default is None:
                raise FlowError(
                    f"the router chose '{choice}', which is not a branch (branches: {', '.join(self.branches)})",
                    address=ctx.address,
                    type="UnknownBranch",
                    run_id=ctx.run_id,
                    path=ctx.path,
                )
            choice = self.default
        step = self.branches[choice]
        output = await ctx.call(choice, step.input_for(current))
        return step.merge_output({}, output)
