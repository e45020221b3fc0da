"""Structured output: ask for a pydantic model, check the answer, say what was wrong.

The schema goes into the prompt (every backend understands that) and, when asked, into the
provider's `response_format`. An answer that is not JSON or does not validate is sent back to
the model with the validation errors, a bounded number of times, by `ChatFlow`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

__all__ = ["InvalidOutput", "ResponseFormatMode", "feedback", "instruction", "parse_output", "response_format"]

ResponseFormatMode = Literal["prompt", "json_object", "json_schema"]

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


class InvalidOutput(Exception):
    """An answer did not parse or validate; `reason` says how, in words the model can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def instruction(schema: type[BaseModel]) -> str:
    """The text that tells the model which JSON to answer with."""
    return "Answer with a single JSON object, and nothing else, that matches this JSON schema:\n" + json.dumps(
        schema.model_json_schema(), separators=(",", ":")
    )


def response_format(schema: type[BaseModel], mode: ResponseFormatMode) -> dict[str, Any] | None:
    """The provider-side `response_format` for `mode` ("prompt" sends none)."""
    if mode == "json_object":
        return {"type": "json_object"}
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": schema.model_json_schema()},
        }
    return None


def _json_text(text: str) -> str:
    fenced = _FENCE.search(text)
    if fenced:
        return fenced.group(1).strip()
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        return text.strip()
    end = max(text.rfind("}"), text.rfind("]"))
    return text[start : end + 1] if end > start else text[start:]


def parse_output(text: str, schema: type[BaseModel]) -> BaseModel:
    """The answer as an instance of `schema` (JSON may be fenced or surrounded by prose).

    Raises:
        InvalidOutput: not JSON, or JSON that fails validation.
    """
    raw = _json_text(text)
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidOutput(f"the answer is not valid JSON ({exc})") from None
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:8])
        raise InvalidOutput(f"the JSON does not match the schema: {problems}") from None


def feedback(reason: str) -> str:
    """The message that sends a bad answer back to the model."""
    return f"Your answer could not be used: {reason}. Reply again with only the corrected JSON object."
