"""The data of a question put to a person, and the rules an answer must follow.

A `HumanRequest` is what a `HumanFlow` leaves in the store when it waits: everything a channel
needs to show the question (text, kind, choices, proposed value, context) and, once answered,
the answer. `normalize_answer` turns what a person (or a script) sent into the one payload shape
of the request's kind, or says exactly why it does not fit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._errors import InvalidAnswer

__all__ = [
    "AnswerKind",
    "ApproveAnswer",
    "ChoiceAnswer",
    "EditAnswer",
    "HumanRequest",
    "RequestStatus",
    "TextAnswer",
    "normalize_answer",
    "request_id_for",
]

AnswerKind = Literal["text", "choice", "approve", "edit"]
RequestStatus = Literal["pending", "answered", "expired"]

_APPROVE_WORDS = {
    "approve": True,
    "approved": True,
    "yes": True,
    "y": True,
    "reject": False,
    "rejected": False,
    "no": False,
    "n": False,
}


def request_id_for(run_id: str, path: str) -> str:
    """The id of the question asked at `path` in run `run_id`: the same on every replay of the run."""
    return hashlib.sha256(f"{run_id}\x00{path}".encode()).hexdigest()[:24]


class TextAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    text: str


class ChoiceAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    choice: str


class ApproveAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    approved: bool
    comment: str = ""


class EditAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any


_SCHEMAS: dict[str, type[BaseModel]] = {
    "text": TextAnswer,
    "choice": ChoiceAnswer,
    "approve": ApproveAnswer,
    "edit": EditAnswer,
}


class HumanRequest(BaseModel):
    """One question waiting for (or holding) a person's answer."""

    model_config = ConfigDict(extra="forbid")

    id: str
    run_id: str
    path: str
    address: str
    session: str
    kind: AnswerKind
    question: str
    choices: list[str] = Field(default_factory=list)
    proposed: Any = None
    context: dict[str, Any] = Field(default_factory=dict)
    syntax: dict[str, str] = Field(default_factory=dict)  # context key -> language, for highlighting
    created_at: float
    deadline: float | None = None
    status: RequestStatus = "pending"
    answer: dict[str, Any] | None = None  # the normalized payload (see normalize_answer)
    answered_by: str | None = None
    answered_at: float | None = None
    consumed: bool = False  # the flow has read the answer (or its expiry)
    held_until: float = 0.0  # a flow waits for it in-process (or is suspending) until then

    def describe(self) -> str:
        """One line for lists: kind, session and the question's first line."""
        first = self.question.strip().splitlines()[0] if self.question.strip() else ""
        return f"[{self.kind}] session={self.session} {first[:80]}"


def _problem_of(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "<answer>"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _raw_payload(kind: str, value: Any) -> Any:
    """A bare value (a string, a bool) as the payload of `kind`; dicts pass through."""
    if isinstance(value, dict):
        return value
    if kind == "text":
        return {"text": value}
    if kind == "choice":
        return {"choice": value}
    if kind == "edit":
        return {"value": value}
    if isinstance(value, str) and value.strip().lower() in _APPROVE_WORDS:
        return {"approved": _APPROVE_WORDS[value.strip().lower()]}
    return {"approved": value}


def normalize_answer(request: HumanRequest, value: Any) -> dict[str, Any]:
    """Check `value` against the request and give the payload stored as its answer.

    Accepted forms: text: "..." or {"text": "..."}; choice: one of the choices or {"choice": ...};
    approve: true/false, "approve"/"reject" or {"approved": bool, "comment": "..."};
    edit: the new value or {"value": ...} (a JSON text is parsed when the proposed value is not text).

    Raises:
        InvalidAnswer: the value has the wrong kind, type or content; the message says what was expected.
    """
    kind = request.kind
    payload = _raw_payload(kind, value)
    foreign = set(payload) - set(_SCHEMAS[kind].model_fields) if isinstance(payload, dict) else set()
    if foreign:
        expected = ", ".join(_SCHEMAS[kind].model_fields)
        raise InvalidAnswer(request.id, f"a '{kind}' question takes {{{expected}}}, not {', '.join(sorted(foreign))}")
    try:
        model = _SCHEMAS[kind].model_validate(payload)
    except ValidationError as exc:
        raise InvalidAnswer(request.id, f"not a valid '{kind}' answer: {_problem_of(exc)}") from None
    if isinstance(model, TextAnswer) and not model.text.strip():
        raise InvalidAnswer(request.id, "the answer is empty")
    if isinstance(model, ChoiceAnswer) and model.choice not in request.choices:
        raise InvalidAnswer(request.id, f"'{model.choice}' is not one of the choices ({', '.join(request.choices)})")
    if isinstance(model, EditAnswer):
        return {"value": _edited_value(request, model.value)}
    return model.model_dump()


def _edited_value(request: HumanRequest, value: Any) -> Any:
    proposed = request.proposed
    if isinstance(proposed, str) or proposed is None:
        if not isinstance(value, str):
            raise InvalidAnswer(
                request.id, f"the edited value must be text, like the proposed one, not {type(value).__name__}"
            )
        return value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidAnswer(request.id, f"the edited value must be JSON like the proposed one: {exc}") from None
    if type(value) is not type(proposed) and not (
        isinstance(value, (int, float)) and isinstance(proposed, (int, float))
    ):
        raise InvalidAnswer(
            request.id,
            f"the edited value must be a {type(proposed).__name__} like the proposed one, not {type(value).__name__}",
        )
    return value
