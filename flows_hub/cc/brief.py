"""What the prompts see of a problem: its text, never its tests or where they live."""

from __future__ import annotations

from typing import Any

from aiflows.problems.model import Problem

__all__ = ["NO_ISSUES", "critic_approves", "problem_brief"]

NO_ISSUES = "NO ISSUES"


def problem_brief(problem: Problem) -> dict[str, Any]:
    """The template variables every cc prompt may use, all present (the templates are strict)."""
    return {
        "title": problem.title or problem.id,
        "statement": problem.statement,
        "kind": problem.kind,
        "signature": problem.prompt or "",
        "entry_point": problem.entry_point or "",
        "plan": "",
        "code": "",
        "feedback": "",
    }


def critic_approves(critique: str) -> bool:
    """A critic that found nothing answers `NO ISSUES` (alone, or as its first line)."""
    lines = [line.strip().strip("*`.").upper() for line in critique.strip().splitlines() if line.strip()]
    return bool(lines) and lines[0] == NO_ISSUES
