"""Tolerant parsing of module answers: JSON first, then the labelled-text shapes small models write.

A small model rarely returns clean JSON. As AgentFlow's regex fallbacks do, each parser first
tries the pydantic model on JSON (fenced or inside prose), then reads labelled lines
(`Sub-Goal: ...`, `Tool Name: ...`, `Conclusion: STOP`), then gives up with a `ParseFailure`
whose reason names what was missing. Nothing here evaluates code: a command written as
`tool.execute(query="...")` is read with `ast`, literals only.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import re
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from .types import ExecutorCommand, FinalAnswer, PlannerAction, QueryAnalysis, VerifierDecision

__all__ = [
    "ParseFailure",
    "action_fields",
    "command_fields",
    "decision_fields",
    "match_tool",
    "parse_action",
    "parse_analysis",
    "parse_answer",
    "parse_command",
    "parse_decision",
]

_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_LABELS = {
    "justification": r"justification",
    "context": r"context",
    "sub_goal": r"sub[-_ ]?goal",
    "tool_name": r"(?:selected[_ ]?)?tool[-_ ]?name|tool",
}


class ParseFailure(ValueError):
    """An answer could not be read as the structure asked for; `reason` says what was missing."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.text = text


def _json_objects(text: str) -> list[Any]:
    """JSON values found in `text`: fenced blocks, then the outermost {...}.

    Only objects are ever used, so text without a `{` has none (the common labelled-text answer
    skips the fence scan and the decoder).
    """
    if "{" not in text:
        return []
    candidates = [m.group(1) for m in _FENCE.finditer(text)] if "```" in text else []
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    found = []
    for raw in candidates:
        try:  # orjson reads plain JSON in a fifth of the time; what it refuses (NaN, huge ints) json may read
            found.append(orjson.loads(raw))
        except ValueError:
            try:
                found.append(json.loads(raw))
            except ValueError:
                continue
    return found


def _model_from_json(text: str, model: type[BaseModel]) -> BaseModel | None:
    for value in _json_objects(text):
        if isinstance(value, dict):
            try:
                return model.model_validate(value)
            except ValidationError:
                continue
    return None


@functools.lru_cache(maxsize=64)
def _label_pattern(pattern: str, stops: str) -> re.Pattern[str]:
    """The compiled regex for `_label`, built once per (label, stops): parsing runs on every module answer."""
    return re.compile(
        rf"(?im)^[\s#*>-]*(?:{pattern})\s*[:：]\s*(.*?)(?=^[\s#*>-]*(?:{stops})\s*[:：]|\n\s*\n|\Z)",
        re.DOTALL,
    )


def _label(text: str, pattern: str, stops: str) -> str | None:
    """The text after the last `Label:`, up to the next known label, a blank line or the end."""
    if ":" not in text and "：" not in text:
        return None
    last = None
    for found in _label_pattern(pattern, stops).finditer(text):
        last = found
    if last is None:
        return None
    # The last one: a small model often echoes the prompt's format before its own answer.
    return last.group(1).strip().strip("*").strip()


# One regex classifies a line by the planner label it starts with (the labels are distinct words, so a
# line starts with at most one); `_planner_labels` reads all four in one pass over the lines.
_PLANNER_LINE = re.compile(
    r"[\s#*>-]*(?:" + "|".join(f"(?P<{key}>{pattern})" for key, pattern in _LABELS.items()) + r")\s*[:：]",
    re.IGNORECASE,
)
_PREFIX_CHARS = str.maketrans("", "", "#*>-")


def _planner_labels(text: str) -> dict[str, str | None]:
    """`_label(text, pattern, <all planner labels>)` for each planner label, in one pass over the lines.

    Every planner label also ends the others' values, so a value is the rest of its label's line and
    the lines up to the next label line, and the last label line of each kind wins, as the regex
    reads it. Text the regex could read across lines differently takes the regex path: a blank or
    prefix-only line (a blank line ends a value; a prefix may cross lines), or an empty value
    followed by an indented line.
    """
    values: dict[str, list[str]] = {}
    parts: list[str] | None = None
    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1]:  # one closing newline: the regex's value ends at `\Z` all the same
        lines.pop()
    classify = _PLANNER_LINE.match
    for i, line in enumerate(lines):
        found = classify(line)
        if found is None:
            if not line.translate(_PREFIX_CHARS).strip():
                return _planner_labels_by_regex(text)
            if parts is not None:
                parts.append(line)
            continue
        rest = line[found.end() :]
        if not rest.strip() and i + 1 < len(lines) and lines[i + 1][:1].isspace():
            return _planner_labels_by_regex(text)
        parts = values[found.lastgroup or ""] = [rest]
    found_values: dict[str, str | None] = dict.fromkeys(_LABELS)
    for key, found_parts in values.items():
        value = found_parts[0] if len(found_parts) == 1 else "\n".join(found_parts)
        found_values[key] = value.strip().strip("*").strip()
    return found_values


def _planner_labels_by_regex(text: str) -> dict[str, str | None]:
    stops = "|".join(_LABELS.values())
    return {key: _label(text, pattern, stops) for key, pattern in _LABELS.items()}


def match_tool(name: str, tools: list[str]) -> str | None:
    """The tool `name` means: exact, then case and punctuation blind, then a close spelling; else None."""
    if name in tools:
        return name
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    for tool in tools:
        if re.sub(r"[^a-z0-9]", "", tool.lower()) == key:
            return tool
    close = difflib.get_close_matches(name, tools, n=1, cutoff=0.85)
    return close[0] if close else None


def parse_action(text: str, tools: list[str]) -> PlannerAction:
    """A planner's answer as a `PlannerAction`; the tool name is matched to `tools` leniently.

    An unknown tool name is kept as written: the loop records it as an invalid (no-op) step.
    """
    return PlannerAction.model_validate(action_fields(text, tools))


def action_fields(text: str, tools: list[str]) -> dict[str, str]:
    """`parse_action(text, tools)`'s fields, without building the model (an LLM module sends fields on)."""
    parsed = _model_from_json(text, PlannerAction)
    if parsed is not None:
        fields: dict[str, str] = dict(parsed.__dict__)
    else:
        values = _planner_labels(text) if ":" in text or "：" in text else dict.fromkeys(_LABELS)
        if not values["sub_goal"] or not values["tool_name"]:
            missing = [k for k in ("sub_goal", "tool_name") if not values[k]]
            raise ParseFailure(f"no {' and no '.join(missing)} in the planner's answer", text)
        fields = {k: v or "" for k, v in values.items()}  # the model's fields, in its order, all str
    written = fields["tool_name"]
    name = written.strip().strip("`'\"").splitlines()[0].strip() if written.strip() else ""
    chosen = match_tool(name, tools) or name
    if chosen != written:
        fields["tool_name"] = chosen
    return fields


def parse_analysis(text: str) -> QueryAnalysis:
    """Step 0 is free text; JSON with an `analysis` field is unwrapped."""
    parsed = _model_from_json(text, QueryAnalysis)
    return parsed if isinstance(parsed, QueryAnalysis) else QueryAnalysis(analysis=text.strip())


def _call_kwargs(code: str) -> dict[str, Any] | None:
    """Keyword arguments of the first `....execute(k=literal, ...)` call in `code`, literals only."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    named = [c for c in calls if getattr(c.func, "attr", getattr(c.func, "id", "")) == "execute"]
    # `tool.execute(...)` when written; else only outermost calls (never an argument's own call)
    inner = {id(a) for c in calls for a in ast.walk(c) if a is not c and isinstance(a, ast.Call)}
    for node in named or [c for c in calls if id(c) not in inner]:
        if isinstance(node, ast.Call):
            try:
                kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
                if not kwargs and node.args:
                    kwargs = {"query": ast.literal_eval(node.args[0])}
            except ValueError:
                continue
            if kwargs:
                return kwargs
    return None


def parse_command(text: str) -> ExecutorCommand:
    """An executor's answer as an `ExecutorCommand`: JSON, or `tool.execute(k=v)` in a code block."""
    return ExecutorCommand.model_validate(command_fields(text))


def command_fields(text: str) -> dict[str, Any]:
    """`parse_command(text)`'s fields, without building the model (an LLM module sends fields on)."""
    objects = _json_objects(text)
    for value in objects:
        if isinstance(value, dict):
            command = value.get("command")
            # The usual JSON answer, whose fields already have the model's types (JSON keys are str):
            # the model's fields without validating them.
            if (
                type(command) is dict
                and type(value.get("analysis", "")) is str
                and type(value.get("explanation", "")) is str
            ):
                return {
                    "analysis": value.get("analysis", ""),
                    "explanation": value.get("explanation", ""),
                    "command": command,
                }
            try:
                return dict(ExecutorCommand.model_validate(value).__dict__)
            except ValidationError:
                continue
    for value in objects:  # bare arguments: {"expression": "1+2"}
        if isinstance(value, dict) and value and "command" not in value:
            return {"analysis": "", "explanation": "", "command": value}
    blocks = [m.group(1) for m in _FENCE.finditer(text)]
    labelled = _label(text, "command", "analysis|explanation")
    for code in [*blocks, *([labelled] if labelled else []), text]:
        kwargs = _call_kwargs(code.strip())
        if kwargs:
            return {"analysis": "", "explanation": _label(text, "explanation", "command") or "", "command": kwargs}
    raise ParseFailure("no tool command (JSON arguments or tool.execute(...)) in the executor's answer", text)


def parse_decision(text: str) -> VerifierDecision:
    """A verifier's answer: JSON `stop`, else the last STOP or CONTINUE written (`Conclusion: STOP`)."""
    return VerifierDecision.model_validate(decision_fields(text))


_VERDICT = re.compile(r"\b(STOP|CONTINUE)\b")


def decision_fields(text: str) -> dict[str, Any]:
    """`parse_decision(text)`'s fields, without building the model (an LLM module sends fields on)."""
    parsed = _model_from_json(text, VerifierDecision)
    if parsed is not None:
        return dict(parsed.__dict__)
    conclusion = _label(text, "conclusion", "analysis")
    words = _VERDICT.findall(conclusion or text)
    if not words:
        raise ParseFailure("neither STOP nor CONTINUE in the verifier's answer", text)
    return {"analysis": text.strip(), "stop": words[-1] == "STOP"}


def parse_answer(text: str) -> FinalAnswer:
    """The final answer: what stands inside the last `<answer>...</answer>`, else the whole text."""
    parsed = _model_from_json(text, FinalAnswer)
    if isinstance(parsed, FinalAnswer) and "<answer>" not in text.lower():
        return parsed
    found = _ANSWER.findall(text)
    answer = found[-1].strip() if found else text.strip()
    return FinalAnswer(answer=answer, text=text)
