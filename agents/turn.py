"""One turn of the agent as its own composite flow, so a trace shows each turn with its module calls.

Turn 0 is the query analysis (and the tools' metadata, asked of each tool flow). Every later turn
is: the planner's action; if it names a tool the agent has, the executor's command and the tool's
result (a failing tool's error is the result); then the verifier's decision. An action naming no
tool is a no-op step, counted as invalid, as AgentFlow does.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from aiflows.context import Context
from aiflows.exceptions import FlowError, Suspended
from aiflows.flow import CompositeFlow, Flow

from .errors import AgentError, ToolUnavailable
from .memory import indent, show_command, truncate
from .normalize import command_of, decision_of, read_action, read_analysis
from .parsing import ParseFailure
from .tools.base import DESCRIBE, metadata_of
from .types import ModuleInput, PlannerAction, ToolMetadata

__all__ = ["MODULE_ROLES", "TurnFlow", "TurnInput", "TurnOutput"]

MODULE_ROLES = ("planner", "analyzer", "executor", "verifier")  # the turn's modules; the rest are tools


class TurnInput(ModuleInput):
    """A turn's input: the module input, plus each tool's metadata as the prompts show it (from turn 0)."""

    tool_texts: dict[str, str] = Field(default_factory=dict)
    max_result_chars: int = 2000


class TurnOutput(BaseModel):
    analysis: str = ""
    metadata: list[ToolMetadata] = Field(default_factory=list)
    action: PlannerAction | None = None
    command: dict[str, Any] | str = ""
    result: str = ""
    ok: bool = True
    invalid: bool = False
    tool_error: bool = False
    stop: bool = False
    verdict: str = ""


class TurnFlow(CompositeFlow):
    """Calls the planner, executor, tool and verifier for one turn (see the module docstring)."""

    Input = TurnInput
    Output = TurnOutput

    def __init__(self, modules: dict[str, Flow | str], tools: dict[str, Flow | str], *, name: str = "turn") -> None:
        clash = set(modules) & set(tools)
        if clash:
            raise AgentError(f"tool names {sorted(clash)} are taken by the agent's modules", module=name)
        super().__init__(subflows={**modules, **tools}, name=name)
        self.tools = dict(tools)
        self.has_analyzer = "analyzer" in modules

    async def module(self, ctx: Context, role: str, base: dict[str, Any], **fields: Any) -> dict[str, Any]:
        """Call a module with the turn's module input and `fields`; its failure stops the agent, naming it."""
        payload = base | fields if fields else base
        try:
            return await ctx.call(role, payload)
        except Suspended:  # a module waiting for a person: the run resumes when they answer
            raise
        except FlowError as exc:
            raise AgentError(f"{exc.type}: {exc.message}", module=role) from None

    async def describe(self, ctx: Context) -> list[ToolMetadata]:
        """Each tool's metadata from the tool flow: read here, or asked over the bus when served elsewhere."""
        found = []
        for name, tool in self.tools.items():
            if isinstance(tool, Flow):
                found.append(metadata_of(tool, name))
                continue
            try:
                answer = await ctx.call(name, DESCRIBE)
            except FlowError as exc:
                if exc.type in ("SchemaError", "ValidationError"):  # a flow that is not a ToolFlow
                    found.append(ToolMetadata(name=name, description=f"the flow served at {tool}"))
                    continue
                raise ToolUnavailable(
                    f"cannot reach the tool at '{tool}': {exc.type}: {exc.message}", module=name
                ) from None
            meta = answer.get("metadata") if isinstance(answer, dict) else None
            found.append(ToolMetadata.model_validate({**(meta or {}), "name": name}))
        return found

    async def handle(self, ctx: Context, data: TurnInput) -> TurnOutput:
        base = data.__dict__.copy()  # the module input: the turn's fields less its own two
        del base["tool_texts"], base["max_result_chars"]
        if data.phase == "analysis":
            metadata = await self.describe(ctx)
            tools_text = "\n".join(m.render() for m in metadata)
            names = [m.name for m in metadata]
            role = "analyzer" if self.has_analyzer else "planner"
            out = await self.module(ctx, role, base, tools=tools_text, tool_names=names)
            return TurnOutput(analysis=read_analysis(out).analysis, metadata=metadata)
        names = list(data.tool_texts)
        planned = await self.module(ctx, "planner", base)
        try:
            action = read_action(planned, names)
        except ParseFailure as bad:
            action = PlannerAction(justification=bad.reason, sub_goal="", tool_name="")
        # The step's fields are gathered here and the output is built once at the end: setting a
        # pydantic model's fields one by one costs a validation hook each, on every turn.
        step: dict[str, Any]
        if action.tool_name not in self.tools:
            shown = action.tool_name or "(none)"
            step = {
                "ok": False,
                "invalid": True,
                "command": "no command: the tool was not found",
                "result": f"no result: '{shown}' is not one of the tools ({', '.join(names)})",
            }
        else:
            step = await self.execute(ctx, base, data, action)
        memory = self.with_step(data, action, step["command"], step["result"])
        stop, verdict = decision_of(await self.module(ctx, "verifier", base, phase="verify", memory=memory))
        return TurnOutput(action=action, stop=stop, verdict=verdict, **step)

    async def execute(
        self, ctx: Context, base: dict[str, Any], data: TurnInput, action: PlannerAction
    ) -> dict[str, Any]:
        """The executor's command and the tool's result, as the turn output's fields (`command`,
        `result`, and `ok: False` with `tool_error` when the tool failed)."""
        out = await self.module(
            ctx,
            "executor",
            base,
            phase="command",
            sub_goal=action.sub_goal,
            context=action.context,
            tool_name=action.tool_name,
            tool=data.tool_texts.get(action.tool_name, action.tool_name),
        )
        try:
            command = command_of(out)
        except ParseFailure as bad:
            return {
                "ok": False,
                "command": "no command",
                "result": f"the executor gave no usable command: {bad.reason}",
            }
        try:
            answer = await ctx.call(action.tool_name, command)
        except Suspended:
            raise
        except FlowError as exc:
            return {"ok": False, "tool_error": True, "command": command, "result": f"Error: {exc.type}: {exc.message}"}
        result = answer.get("result") if isinstance(answer, dict) else None
        text = result if isinstance(result, str) else json.dumps(answer, ensure_ascii=False, default=str)
        return {"command": command, "result": text}

    @staticmethod
    def with_step(data: TurnInput, action: PlannerAction, command: dict[str, Any] | str, result: str) -> str:
        """The memory the verifier sees: the agent's memory and this turn's step (not yet stored)."""
        shown = show_command(command)
        block = (
            f"Action Step {data.turn}:\n  Tool: {action.tool_name}\n  Sub-goal: {action.sub_goal}\n"
            f"  Command: {shown}\n  Result: {indent(truncate(result, data.max_result_chars))}"
        )
        memory = "" if data.memory == "(no steps yet)" else data.memory
        return f"{memory}\n{block}".strip()
