"""Reading any module flow's answer as the structure its phase needs.

A module may be an `LLMModule` (structured fields and `content`), a `ChatFlow` (`content`, maybe
`parsed`), a plain Python flow (the fields themselves, or `result` text) or a `HumanFlow` (text).
Fields win; otherwise the text goes through the tolerant parser.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from .parsing import (
    ParseFailure,
    match_tool,
    parse_action,
    parse_analysis,
    parse_answer,
    parse_command,
    parse_decision,
)
from .types import ExecutorCommand, FinalAnswer, PlannerAction, QueryAnalysis, VerifierDecision

__all__ = [
    "command_of",
    "decision_of",
    "read_action",
    "read_analysis",
    "read_answer",
    "read_command",
    "read_decision",
    "text_of",
]

_TEXT_KEYS = ("content", "text", "result", "answer", "output")
# The keys that say an output holds a phase's fields (a set: `dict.keys() >= set` is one C call).
_ANALYSIS_KEYS = frozenset(("analysis",))
_ACTION_KEYS = frozenset(("sub_goal", "tool_name"))
_COMMAND_KEYS = frozenset(("command",))
_DECISION_KEYS = frozenset(("stop",))
_ANSWER_KEYS = frozenset(("answer",))


def text_of(output: dict[str, Any]) -> str:
    """The answer's text: the first of content, text, result, answer, output that is a string."""
    for key in _TEXT_KEYS:
        value = output.get(key)
        if isinstance(value, str):
            return value
    return ""


def _fields(output: dict[str, Any], model: type[BaseModel], keys: frozenset[str]) -> BaseModel | None:
    for source in (output, output.get("parsed")):
        if isinstance(source, dict) and source.keys() >= keys:
            try:
                return model.model_validate(source)
            except ValidationError:
                continue
    return None


def read_analysis(output: dict[str, Any]) -> QueryAnalysis:
    found = _fields(output, QueryAnalysis, _ANALYSIS_KEYS)
    return found if isinstance(found, QueryAnalysis) else parse_analysis(text_of(output))


def read_action(output: dict[str, Any], tools: list[str]) -> PlannerAction:
    """Raises `ParseFailure` when neither fields nor text give a sub-goal and a tool."""
    found = _fields(output, PlannerAction, _ACTION_KEYS)
    if isinstance(found, PlannerAction) and found.tool_name:
        chosen = match_tool(found.tool_name.strip(), tools) or found.tool_name
        return found if chosen == found.tool_name else found.model_copy(update={"tool_name": chosen})
    return parse_action(text_of(output), tools)


def read_command(output: dict[str, Any]) -> ExecutorCommand:
    """Raises `ParseFailure` when there is no command."""
    found = _fields(output, ExecutorCommand, _COMMAND_KEYS)
    if isinstance(found, ExecutorCommand):
        return found
    return parse_command(text_of(output))


def command_of(output: dict[str, Any]) -> dict[str, Any]:
    """`read_command(output).command`, read as it is when the fields already have the model's types
    (an LLM module's answer): the loop needs only the arguments, not the model. Raises `ParseFailure`."""
    command = output.get("command")
    if (
        type(command) is dict
        and _plain_text(output, "analysis")
        and _plain_text(output, "explanation")
        and set(map(type, command)) <= _STR
    ):
        return command
    return read_command(output).command


def decision_of(output: dict[str, Any]) -> tuple[bool, str]:
    """`read_decision(output)`'s stop and analysis, read as they are when the fields already have the
    model's types (an LLM module's answer): the loop needs only the two values, not the model."""
    stop = output.get("stop")
    if type(stop) is bool and _plain_text(output, "analysis"):
        return stop, output.get("analysis", "")
    decision = read_decision(output)
    return decision.stop, decision.analysis


_STR = {str}


def _plain_text(output: dict[str, Any], key: str) -> bool:
    """Whether `output[key]` is absent or text (so the model's default or the value itself is its field)."""
    return type(output.get(key, "")) is str


def read_decision(output: dict[str, Any]) -> VerifierDecision:
    """An unreadable verdict is CONTINUE: the budgets still bound the loop."""
    found = _fields(output, VerifierDecision, _DECISION_KEYS)
    if isinstance(found, VerifierDecision):
        return found
    try:
        return parse_decision(text_of(output))
    except ParseFailure as bad:
        return VerifierDecision(analysis=f"unreadable verdict ({bad.reason}); continuing", stop=False)


def read_answer(output: dict[str, Any]) -> FinalAnswer:
    found = _fields(output, FinalAnswer, _ANSWER_KEYS)
    if isinstance(found, FinalAnswer) and "<answer>" not in found.answer.lower():
        return found
    return parse_answer(text_of(output) or (found.answer if isinstance(found, FinalAnswer) else ""))
