"""The oracle plan: the editorial's plan for the problem, or a person's, instead of a model's.

With `source: editorial` the plan is `Problem.metadata["plan"]` (the cc_flows loader puts the
editorial plans there); with `source: human` a person writes it through `aiflows.human`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from aiflows import CompositeFlow, Context
from aiflows.exceptions import AiflowsError, ConfigError
from aiflows.problems.model import Problem

__all__ = ["NoPlanError", "OraclePlan"]


_QUESTION = (
    "Write a plan, in words and without code, for the problem '{{ title }}' ({{ problem_id }}):\n\n{{ statement }}"
)


class NoPlanError(AiflowsError):
    """The problem has no editorial plan, and the oracle was asked for one."""


class OraclePlan(CompositeFlow):
    """Output `plan` (the text) and `source` (where it came from)."""

    class Input(BaseModel):
        problem: Problem

    class Output(BaseModel):
        plan: str
        source: str

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        source: Literal["editorial", "human"] = "editorial"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.config.source == "human":
            try:
                from aiflows.human import HumanFlow
            except ImportError:
                raise ConfigError(
                    f"flow '{self.name}': oracle source 'human' needs aiflows.human, which is not installed here",
                    key="source",
                ) from None
            self._subflows["human"] = HumanFlow(name="human", config={"question": _QUESTION, "kind": "text"})

    async def handle(self, ctx: Context, data: BaseModel) -> dict[str, Any]:
        assert isinstance(data, OraclePlan.Input)
        problem = data.problem
        if self.config.source == "human":
            # The run suspends here until a person answers (`aiflows human`, the web page, HumanDesk).
            answer = await self.call(
                "human", {"problem_id": problem.id, "title": problem.title, "statement": problem.statement}
            )
            return {"plan": str(answer.get("answer") or ""), "source": "human"}
        plan = problem.metadata.get("plan")
        if not isinstance(plan, str) or not plan.strip():
            where = f" ({problem.root})" if problem.root else ""
            raise NoPlanError(
                f"problem '{problem.id}'{where} has no editorial plan in metadata['plan']; load it with its plans "
                "(load_problems(..., plans=PATH)) or use the oracle source 'human'"
            )
        return {"plan": plan, "source": "editorial"}
