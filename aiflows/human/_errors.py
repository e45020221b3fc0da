"""Errors of human-in-the-loop sessions.

    AiflowsError
    └── HumanError           something about a question put to a person
        ├── UnknownRequest   no question with that id (or no session of that name)
        ├── InvalidAnswer    the answer does not fit the question's kind or schema
        ├── AlreadyAnswered  someone answered first (or the question expired); carries who and when
        ├── HumanTimeout     nobody answered before the deadline and the flow has no default answer
        └── Rejected         the person rejected a gate whose flow is set to stop on rejection

`HumanTimeout` and `Rejected` are raised inside a `HumanFlow`'s handler, so its caller sees a
`FlowError` whose `type` is the class name, like any other flow failure.
"""

from __future__ import annotations

from aiflows.exceptions import AiflowsError

__all__ = ["AlreadyAnswered", "HumanError", "HumanTimeout", "InvalidAnswer", "Rejected", "UnknownRequest"]


class HumanError(AiflowsError):
    """Base of the errors about questions put to people."""


class UnknownRequest(HumanError):
    """No question (or session) with this id is known to the store."""


class InvalidAnswer(HumanError):
    """An answer that does not fit its question: the message says what was expected."""

    def __init__(self, request_id: str, problem: str) -> None:
        self.request_id = request_id
        self.problem = problem
        super().__init__(f"request {request_id}: {problem}")


class AlreadyAnswered(HumanError):
    """The question was closed before this answer arrived: the first answer won."""

    def __init__(self, request_id: str, status: str, answered_by: str | None, answered_at: float | None) -> None:
        self.request_id = request_id
        self.status = status
        self.answered_by = answered_by
        self.answered_at = answered_at
        if status == "expired":
            text = f"request {request_id} expired before this answer arrived; the flow went on without it"
        else:
            text = f"request {request_id} was already answered by {answered_by or 'someone'}; this answer was not used"
        super().__init__(text)


class HumanTimeout(HumanError):
    """Nobody answered in time and the flow has no default answer."""


class Rejected(HumanError):
    """The person rejected an approval gate (raised only when the flow is set to stop on rejection)."""
