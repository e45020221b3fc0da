"""Errors of agents, under aiflows' own base so the CLI and callers catch one tree.

AiflowsError
└── AgentError          a module or tool of an agent failed in a way the loop cannot record
    └── ToolUnavailable a tool flow cannot be reached (not served, wrong address)
"""

from __future__ import annotations

from aiflows.exceptions import AiflowsError

__all__ = ["AgentError", "ToolUnavailable"]


class AgentError(AiflowsError):
    """An agent could not go on; `module` names the part (planner, executor, verifier, generator, a tool)."""

    def __init__(self, message: str, *, module: str) -> None:
        self.module = module
        super().__init__(f"{module}: {message}")


class ToolUnavailable(AgentError):
    """A tool flow did not answer when asked for its metadata (not served, or not a flow at that address)."""
