"""The demo's task: kbqa multi-hop questions answered by an AgentFlow whose only learned part is the planner.

The planner writes two short lines each turn, `Tool Name: <tool>` and `Sub-Goal: <reference>`; the
other modules are deterministic Python flows, so the reward is exact and a rollout is fast:

    executor   turns the sub-goal into a tool call: a reference (`entity 1`, `entity 2`, `employer`,
               `office`) becomes the entity name it points to in the query or in memory, `add` and
               `subtract` combine the last two values retrieved (a follow-up replaces the value it
               came from: `entity 1`, `employer`, `office` leaves one value, the office city's)
    verifier   STOP once the planner has called `finish`
    generator  answers with the value of the last result before `finish`

So the planner's choices (which tool, which reference, when to finish) decide success. Names are
resolved by the executor, so held-out entities test the plan, not the spelling of unseen names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agents import AgentFlow, ModuleInput, PlannerFlow
from agents.eval.kbqa import KB, KBQuestion, generate_kb
from agents.tools.base import ToolFlow, ToolResult
from agents.tools.calculator import CalculatorTool
from agents.tools.retrieve import RetrieveTool
from aiflows.context import Context
from aiflows.flow import AtomicFlow

__all__ = [
    "PLANNER_PROMPT",
    "REFERENCES",
    "FinishTool",
    "build_demo_agent",
    "reward",
    "split_questions",
    "write_corpus",
]

REFERENCES = ("entity 1", "entity 2", "employer", "office", "add", "subtract", "answer")
TOOLS = ("retrieve", "calculator", "finish")
# The planner's prompt: the query and the memory, nothing else (short prompts keep a CPU run fast).
PLANNER_PROMPT = "{{ query }}\n{{ memory }}\nNext step?"
_NAME = re.compile(r"\b[A-Z][a-z]+\b")
_NOT_NAMES = {"What", "How", "Take"}
_NUMBER = re.compile(r"-?\d+")
_BLOCK = re.compile(
    r"Action Step \d+[^\n]*:\n  Tool: (?P<tool>[^\n]*)\n  Sub-goal: (?P<goal>[^\n]*)\n.*?"
    r"  Result: (?P<result>.*?)(?=\nAction Step |\Z)",
    re.S,
)


def _steps(memory: str) -> list[tuple[str, str]]:
    """(tool, result) of each step in a rendered memory, oldest first."""
    return [(m.group("tool").strip(), m.group("result").strip()) for m in _BLOCK.finditer(memory)]


def _operands(memory: str) -> list[int]:
    """The values retrieved so far: a follow-up (`employer`, `office`) replaces the value it came from."""
    stack: list[int] = []
    for m in _BLOCK.finditer(memory):
        value = _value(m.group("result"))
        if m.group("tool").strip() != "retrieve" or value is None:
            continue
        if m.group("goal").strip().lower() in ("employer", "office") and stack:
            stack[-1] = value
        else:
            stack.append(value)
    return stack


def _value(text: str) -> int | None:
    found = _NUMBER.findall(text)
    return int(found[-1]) if found else None


class FinishTool(ToolFlow):
    """Ends the search: the answer is the value of the previous step's result."""

    class Input(BaseModel):
        note: str = ""

    description = "Call when the last result holds the answer."
    output = "done"

    def __init__(self, *, name: str = "finish", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    async def run_tool(self, ctx: Context, data: Input) -> ToolResult:
        return ToolResult(result="done")


class ScriptedAnalyzer(AtomicFlow):
    """Step 0 without a model: the analysis is fixed text (the planner is what is trained)."""

    Input = ModuleInput

    async def handle(self, ctx: Context, data: ModuleInput) -> dict[str, Any]:
        return {"analysis": "retrieve facts, compute, finish"}


class ScriptedExecutor(AtomicFlow):
    """Turns a sub-goal into the tool's command by resolving the reference it names."""

    Input = ModuleInput

    async def handle(self, ctx: Context, data: ModuleInput) -> dict[str, Any]:
        goal = data.sub_goal.strip().lower()
        steps = _steps(data.memory)
        if data.tool_name == "finish":
            return {"command": {"note": goal}}
        if data.tool_name == "calculator":
            values = _operands(data.memory)
            if goal in ("add", "subtract") and len(values) >= 2:
                return {"command": {"expression": f"{values[-2]} {'+' if goal == 'add' else '-'} {values[-1]}"}}
            return {"command": {"expression": goal or "?"}}
        names = [n for n in _NAME.findall(data.query) if n not in _NOT_NAMES]
        target = goal
        if goal in ("entity 1", "entity 2") and len(names) >= int(goal[-1]):
            target = names[int(goal[-1]) - 1]
        elif goal in ("employer", "office"):
            pattern = r"works for the company (\w+)" if goal == "employer" else r"head office is in the city of (\w+)"
            found = [m for _, r in steps for m in re.findall(pattern, r)]
            target = found[-1] if found else goal
        return {"command": {"query": target, "k": 1}}


class ScriptedVerifier(AtomicFlow):
    """STOP once the step just taken called `finish`."""

    Input = ModuleInput

    async def handle(self, ctx: Context, data: ModuleInput) -> dict[str, Any]:
        steps = _steps(data.memory)
        return {"analysis": "", "stop": bool(steps) and steps[-1][0] == "finish"}


class ScriptedGenerator(AtomicFlow):
    """The answer: the value of the last result before `finish` (an invalid step has none)."""

    Input = ModuleInput

    async def handle(self, ctx: Context, data: ModuleInput) -> dict[str, Any]:
        steps = [s for s in _steps(data.memory) if s[0] in ("retrieve", "calculator")]
        value = _value(steps[-1][1]) if steps else None
        return {"answer": "" if value is None else str(value), "text": ""}


def write_corpus(kb: KB, folder: Path) -> Path:
    """The KB's passages as a JSON-lines corpus for the retrieve tool."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"corpus-{kb.seed}.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in kb.corpus()))
    return path


def build_demo_agent(planner: PlannerFlow | AtomicFlow, corpus: Path, *, max_steps: int = 7) -> AgentFlow:
    """The agent every arm runs: `planner` plus the scripted modules and the three tools."""
    return AgentFlow(
        planner=planner,
        executor=ScriptedExecutor(name="executor"),
        verifier=ScriptedVerifier(name="verifier"),
        generator=ScriptedGenerator(name="generator"),
        analyzer=ScriptedAnalyzer(name="analyzer"),
        tools=[
            RetrieveTool(config={"corpus": str(corpus), "k": 1, "backend": "bm25"}),
            CalculatorTool(),
            FinishTool(),
        ],
        max_steps=max_steps,
        max_result_chars=200,
    )


def reward(answer: str, question: KBQuestion) -> float:
    """Exact match of the integer answer."""
    return 1.0 if answer.strip() == question.answer else 0.0


def split_questions(
    seed: int, per_kind: int, held_out_per_kind: int | None = None
) -> tuple[KB, dict[str, list[KBQuestion]]]:
    """The KB of `seed` and its splits, fixed before any training: train (`per_kind` of each kind), unseen
    entities and unseen composition (`held_out_per_kind` each, `per_kind` when not given)."""
    kb = generate_kb(seed)
    held = per_kind if held_out_per_kind is None else held_out_per_kind
    return kb, {
        "train": kb.questions("train", per_kind),
        "test_entity": kb.questions("test_entity", held),
        "test_composition": kb.questions("test_composition", held),
    }
