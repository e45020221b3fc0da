"""`AgentFlow`: planner, executor, verifier and generator around an evolving memory (AgentFlow's loop).

    agent = AgentFlow(planner=..., executor=..., verifier=..., generator=..., tools=[calculator, retrieve],
                      max_steps=10, max_time=300)
    agent.run_sync({"query": "..."})

Each module is any flow (an `LLMModule`, a `ChatFlow`, a plain Python flow, a `HumanFlow`, an address
served elsewhere); so is each tool. Step 0 analyses the query; each turn is a `TurnFlow` call (the
planner's action, the executor's command, the tool's result, the verifier's decision); the generator
answers from memory. The memory is this flow's own state, per session, and is serialised into every
prompt with each result cut to `max_result_chars`. Budgets: `max_steps` turns and `max_time` seconds
of wall time (read through the journaled clock, so a resumed run sees the same times).

In YAML the modules and tools are subflows (every subflow that is not a module is a tool):

    class: agents:AgentFlow
    config: {max_steps: 5}
    subflows:
      planner: {class: agents:PlannerFlow, config: {model: openai/gpt-4o-mini}}
      ...
      calculator: {class: agents.tools:CalculatorTool}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, cast

from pydantic import BaseModel, Field

from aiflows.context import Context
from aiflows.exceptions import ConfigError, FlowError, Suspended
from aiflows.flow import CompositeFlow, Flow

from .errors import AgentError
from .memory import Memory
from .normalize import read_answer
from .turn import MODULE_ROLES, TurnFlow, TurnOutput
from .types import AgentInput, AgentOutput, ToolMetadata, TurnRecord

__all__ = ["AgentConfig", "AgentFlow"]

_REQUIRED = ("planner", "executor", "verifier", "generator")


class AgentConfig(BaseModel):
    """The loop's budgets and memory size."""

    max_steps: int = Field(default=10, ge=1)  # turns after the query analysis (AgentFlow: 10 to evaluate, 3 to train)
    max_time: float = Field(default=300.0, gt=0)  # seconds of wall time; checked before each turn
    max_result_chars: int = Field(default=2000, ge=16)  # a tool result is cut to this in memory


class AgentState(BaseModel):
    memory: Memory = Field(default_factory=Memory)  # the last query's trajectory
    queries: int = 0  # queries answered in this session


def _tool_map(tools: Sequence[Flow | str] | Mapping[str, Flow | str] | None) -> dict[str, Flow | str]:
    if tools is None:
        return {}
    if isinstance(tools, Mapping):
        return dict(tools)
    found: dict[str, Flow | str] = {}
    for tool in tools:
        if isinstance(tool, Flow):
            name = tool.name
        elif isinstance(tool, str):
            name = tool.rsplit("/", 1)[-1]
        else:
            raise ConfigError(f"a tool must be a Flow or an address, not {type(tool).__name__}", key="tools")
        if name in found:
            raise ConfigError(f"two tools are named '{name}'", key="tools")
        found[name] = tool
    return found


class AgentFlow(CompositeFlow):
    """The agent (see the module docstring). Output: `AgentOutput` (answer, trajectory, counts)."""

    Input = AgentInput
    Output = AgentOutput
    State = AgentState
    Config: ClassVar[type[BaseModel] | None] = AgentConfig
    config: AgentConfig

    def __init__(
        self,
        planner: Flow | str | None = None,
        executor: Flow | str | None = None,
        verifier: Flow | str | None = None,
        generator: Flow | str | None = None,
        *,
        analyzer: Flow | str | None = None,
        tools: Sequence[Flow | str] | Mapping[str, Flow | str] | None = None,
        max_steps: int | None = None,
        max_time: float | None = None,
        max_result_chars: int | None = None,
        subflows: Mapping[str, Flow | str] | None = None,
        config: Any = None,
        name: str = "agent",
        timeout: float | None = None,
    ) -> None:
        given = {"max_steps": max_steps, "max_time": max_time, "max_result_chars": max_result_chars}
        settings = {
            **(dict(config) if isinstance(config, Mapping) else {}),
            **{k: v for k, v in given.items() if v is not None},
        }
        subs = dict(subflows or {})
        modules: dict[str, Flow | str] = {}
        for role, value in (
            ("planner", planner),
            ("executor", executor),
            ("verifier", verifier),
            ("generator", generator),
            ("analyzer", analyzer),
        ):
            chosen = value if value is not None else subs.pop(role, None)
            subs.pop(role, None)
            if chosen is not None:
                modules[role] = chosen
        missing = [r for r in _REQUIRED if r not in modules]
        if missing:
            raise ConfigError(f"agent '{name}' has no {', '.join(missing)} (each module is a flow or an address)")
        tool_map = {**subs, **_tool_map(tools)}
        if not tool_map:
            raise ConfigError(f"agent '{name}' has no tools")
        self.modules = modules
        self.tools = tool_map
        self.turn = TurnFlow({r: f for r, f in modules.items() if r in MODULE_ROLES}, tool_map)
        super().__init__(
            subflows={"turn": self.turn, "generator": modules["generator"]},
            config=settings,
            name=name,
            timeout=timeout,
        )

    @property
    def planner(self) -> Flow | str:
        return self.modules["planner"]

    async def handle(self, ctx: Context, data: AgentInput) -> AgentOutput:
        cfg = self.config
        state = cast(AgentState, ctx.state)
        memory = Memory(query=data.query)
        state.memory = memory  # replaced, not merged: each query starts with an empty memory
        base = {
            "query": data.query,
            "query_id": data.query_id,
            "rollout_id": data.rollout_id,
            "max_turns": cfg.max_steps,
        }
        start = ctx.now()
        first = TurnOutput.model_validate(await ctx.call("turn", {**base, "phase": "analysis", "turn": 0}))
        memory.analysis = first.analysis
        metadata: list[ToolMetadata] = first.metadata
        names = [m.name for m in metadata]
        tools_text = "\n".join(m.render() for m in metadata)
        tool_texts = {m.name: m.render() for m in metadata}
        out = AgentOutput(answer="", analysis=first.analysis, stop_reason="max_steps")
        tool_calls = out.tool_calls
        invalid_actions = tool_errors = 0  # counted here, set once: setting a model's field costs a hook
        for turn in range(1, cfg.max_steps + 1):
            if ctx.now() - start >= cfg.max_time:
                out.stop_reason = "max_time"
                break
            # The turn's output, as its host checked it against `TurnOutput` and dumped it: read as it is,
            # not validated again (the action is, inside the record, which keeps a `PlannerAction`).
            step = await ctx.call(
                "turn",
                {
                    **base,
                    "phase": "next_step",
                    "turn": turn,
                    "analysis": memory.analysis,
                    "memory": memory.render(),
                    "tools": tools_text,
                    "tool_names": names,
                    "tool_texts": tool_texts,
                    "max_result_chars": cfg.max_result_chars,
                },
            )
            action, command = step["action"], step["command"]
            ok, invalid, stop = step["ok"], step["invalid"], step["stop"]
            kept = memory.add(
                tool_name=action["tool_name"] or "(none)",
                sub_goal=action["sub_goal"],
                command=command,
                result=step["result"],
                max_result_chars=cfg.max_result_chars,
                ok=ok,
                invalid=invalid,
            )
            out.turns.append(
                TurnRecord(
                    turn=turn, action=action, command=command, result=kept.result, ok=ok, invalid=invalid, stop=stop
                )
            )
            invalid_actions += invalid
            tool_errors += step["tool_error"]
            if not invalid:
                tool_calls[action["tool_name"]] = tool_calls.get(action["tool_name"], 0) + 1
            if stop:
                out.stop_reason = "verifier"
                break
        try:
            answered = await ctx.call(
                "generator", {**base, "phase": "answer", "analysis": memory.analysis, "memory": memory.render()}
            )
        except Suspended:  # a module waiting for a person: the run resumes when they answer
            raise
        except FlowError as exc:
            raise AgentError(f"{exc.type}: {exc.message}", module="generator") from None
        final = read_answer(answered)
        state.queries += 1
        out.invalid_actions, out.tool_errors = invalid_actions, tool_errors
        out.answer, out.text = final.answer, final.text
        out.steps = len(memory.steps)
        out.memory = memory.render()
        return out
