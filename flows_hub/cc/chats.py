"""The chat flows of the cc compositions: a coder, a planner and two critics.

Each is `aiflows.llm.ChatFlow` with this folder's prompt files as defaults; the caller's config
(model, sampling, cache) goes on top. Their conversation is their state, so a later turn in the
same session sees what was said before, as the loops of the paper need.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiflows.llm import ChatFlow

__all__ = ["CodeCritic", "Coder", "PlanCritic", "Planner", "RoleChat"]


class RoleChat(ChatFlow):
    """A ChatFlow whose prompt files default to the ones named in `PROMPTS`."""

    PROMPTS: ClassVar[dict[str, str]] = {}

    def __init__(self, *, config: Any = None, **kwargs: Any) -> None:
        given = dict(config or {}) if not hasattr(config, "model_dump") else config.model_dump(exclude_unset=True)
        super().__init__(config={**self.PROMPTS, **given}, **kwargs)


def _prompts(role: str, *, later: bool = True) -> dict[str, str]:
    files = {
        "system_prompt_file": f"prompts/{role}_system.jinja",
        "first_prompt_file": f"prompts/{role}_first.jinja",
    }
    if later:
        files["later_prompt_file"] = f"prompts/{role}_later.jinja"
    return files


class Coder(RoleChat):
    """Writes the program: first from the problem (and a plan), then from feedback."""

    PROMPTS = _prompts("coder")


class Planner(RoleChat):
    """Writes a plan in words: observations, algorithm, complexity; no code."""

    PROMPTS = _prompts("planner")


class CodeCritic(RoleChat):
    """Reviews a program (and what the samples said of it); answers NO ISSUES when satisfied."""

    PROMPTS = _prompts("critic_code")


class PlanCritic(RoleChat):
    """Reviews a plan; answers NO ISSUES when satisfied."""

    PROMPTS = _prompts("critic_plan")
