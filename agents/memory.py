"""The agent's evolving memory: an ordered, append-only record of steps, serialised into each prompt.

Results are cut to `max_result_chars` when they are stored, so a prompt grows by a bounded amount
per turn however much a tool returns (AgentFlow keeps context bounded the same way).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from .types import MemoryStep

__all__ = ["Memory", "indent", "show_command", "truncate"]

# `json.dumps(value, ensure_ascii=False)` makes a new encoder on every call (only the default options
# reuse one); a step's command is shown on every turn, so the encoder is made once.
_show = json.JSONEncoder(ensure_ascii=False).encode


def show_command(command: dict[str, Any] | str) -> str:
    """A step's command as memory shows it: text as it is, arguments as JSON."""
    return command if isinstance(command, str) else _show(command)


def truncate(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... [{len(text) - limit} more characters]"


def indent(text: str) -> str:
    """Continuation lines of a multi-line result indented, so a step's result cannot pass for a label."""
    return text.replace("\n", "\n    ")


class Memory(BaseModel):
    """Steps in the order they happened; an agent keeps one per session in its own state."""

    query: str = ""
    analysis: str = ""
    steps: list[MemoryStep] = Field(default_factory=list)
    # Rendered steps (steps are append-only), made on first render. No default_factory: pydantic reads a
    # factory's signature on every instance, and `list`'s costs about 0.8 ms (most of a new Memory).
    _blocks: list[str] | None = PrivateAttr(default=None)

    def add(
        self,
        *,
        tool_name: str,
        sub_goal: str,
        command: dict[str, Any] | str,
        result: str,
        max_result_chars: int,
        ok: bool = True,
        invalid: bool = False,
    ) -> MemoryStep:
        """Append a step (the result truncated) and return it."""
        step = MemoryStep(
            turn=len(self.steps) + 1,
            tool_name=tool_name,
            sub_goal=sub_goal,
            command=command,
            result=truncate(result, max_result_chars),
            ok=ok,
            invalid=invalid,
        )
        self.steps.append(step)
        return step

    def render(self) -> str:
        """The memory as prompts show it: one block per step, oldest first (each block rendered once)."""
        if not self.steps:
            return "(no steps yet)"
        # Read from the private attributes' dict: `self._blocks` goes through BaseModel.__getattr__,
        # about 2 us, and this runs before every turn.
        private = self.__pydantic_private__
        blocks = private.get("_blocks") if private is not None else None
        if blocks is None:
            blocks = self._blocks = []
        for step in self.steps[len(blocks) :]:
            command = show_command(step.command)
            status = "" if step.ok else (" (invalid action)" if step.invalid else " (failed)")
            blocks.append(
                f"Action Step {step.turn}{status}:\n"
                f"  Tool: {step.tool_name}\n  Sub-goal: {step.sub_goal}\n  Command: {command}\n  Result: {indent(step.result)}"
            )
        return "\n".join(blocks)
