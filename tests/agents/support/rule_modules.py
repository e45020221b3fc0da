"""Modules and tools as plain Python flows, for agent tests that need no model at all.

The planner follows `plan` (in the input's `context` is nothing it needs); the executor writes each
tool's command from the query; the verifier stops once the calculator has answered.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiflows import flow
from aiflows.flow import AtomicFlow

PLAN = ["retrieve", "calculator"]


@flow
def planner(phase: str, turn: int = 0, query: str = "", memory: str = "") -> dict[str, Any]:
    """Step 0 analyses; turn N uses the tool named in the query's 'use ...' list, else PLAN."""
    if phase == "analysis":
        return {"analysis": f"the query has {len(query.split())} words"}
    wanted = re.search(r"use ([\w, ]+)\.", query)
    plan = [t.strip() for t in wanted.group(1).split(",")] if wanted else PLAN
    tool = plan[min(turn, len(plan)) - 1]
    return {"justification": "planned", "context": memory[-200:], "sub_goal": f"step {turn}", "tool_name": tool}


@flow
def executor(tool_name: str, query: str, context: str = "") -> dict[str, Any]:
    if tool_name == "calculator":
        numbers = re.findall(r"\d+", query)
        return {"command": {"expression": " + ".join(numbers) or "0"}}
    wait = re.search(r"wait ([\d.]+)", query)
    return {"command": {"query": query, "seconds": float(wait.group(1)) if wait else 5}}


@flow
def verifier(memory: str) -> dict[str, Any]:
    return {"stop": "Tool: calculator" in memory and "(failed)" not in memory.split("Tool: calculator")[-1]}


@flow
def generator(memory: str) -> str:
    found = re.findall(r"Tool: calculator\n.*?Result: (\S+)", memory, re.DOTALL)
    return f"<answer>{found[-1] if found else 'none'}</answer>"


class Broken(AtomicFlow):
    """A tool that always fails."""

    async def handle(self, ctx: Any, data: Any) -> Any:
        raise RuntimeError("the tool's disk is full")


class Hangs(AtomicFlow):
    """A tool that sleeps for `seconds` (its own timeout cuts it short)."""

    async def handle(self, ctx: Any, data: Any) -> Any:
        await asyncio.sleep(float(ctx.input.get("seconds", 5)))
        return {"result": "woke up"}


@flow
def lookup(query: str) -> str:
    """Looks words up (a plain function as a tool)."""
    return f"looked up {len(query)} characters"
