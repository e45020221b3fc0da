"""An agent from model strings, one per module, as AgentFlow's engine tuple names them.

    agent = build_agent(
        planner_main="local:/models/qwen-0.5b", planner_fixed="openai/gpt-4o-mini",
        verifier="openai/gpt-4o-mini", executor="openai/gpt-4o-mini",
        tools=[CalculatorTool()], api_base="http://localhost:8000/v1",
    )

`planner_main` is the trained model (the planner's next-step calls, recorded by `recorder`);
`planner_fixed` does the query analysis and writes the final answer; `verifier` and `executor`
are their modules' models. Each accepts a model string or a full `ChatConfig` dict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiflows.flow import Flow
from aiflows.llm import Backend

from .agent import AgentFlow
from .modules.llm import LLMModule, PlannerFlow
from .recorder import Recorder

__all__ = ["build_agent"]


def _config(spec: str | Mapping[str, Any], common: Mapping[str, Any]) -> dict[str, Any]:
    return {**common, "model": spec} if isinstance(spec, str) else {**common, **spec}


def build_agent(
    *,
    planner_main: str | Mapping[str, Any],
    planner_fixed: str | Mapping[str, Any] | None = None,
    verifier: str | Mapping[str, Any] | None = None,
    executor: str | Mapping[str, Any] | None = None,
    tools: Sequence[Flow | str] | Mapping[str, Flow | str],
    recorder: Recorder | None = None,
    planner_backend: Backend | None = None,
    max_steps: int = 10,
    max_time: float = 300,
    temperature: float = 0.0,
    **common: Any,
) -> AgentFlow:
    """The four-engine agent; unnamed engines default to `planner_fixed`, which defaults to `planner_main`.

    `common` is merged into every module's `ChatConfig` (api_base, api_key_env, max_tokens, ...).
    """
    shared = {"temperature": temperature, **common}
    fixed = planner_fixed if planner_fixed is not None else planner_main
    planner = PlannerFlow(
        name="planner", config=_config(planner_main, shared), recorder=recorder, backend=planner_backend
    )
    return AgentFlow(
        planner=planner,
        analyzer=LLMModule(name="analyzer", config=_config(fixed, shared)),
        executor=LLMModule(name="executor", config=_config(executor or fixed, shared)),
        verifier=LLMModule(name="verifier", config=_config(verifier or fixed, shared)),
        generator=LLMModule(name="generator", config=_config(fixed, shared)),
        tools=tools,
        max_steps=max_steps,
        max_time=max_time,
    )
