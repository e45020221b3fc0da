"""Exact scorers (the rewards training uses) and an optional model-as-judge scorer.

score_game24   the expression uses the four numbers exactly once each and equals 24, exactly
score_gsm8k    the last number of the response equals the reference, after normalisation
score_kbqa     normalised exact match
JudgeScorer    a chat model says whether the response and the reference agree (AgentFlow's reward)
"""

from __future__ import annotations

import re
import string
from collections import Counter
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ..tools.calculator import CalculationError, evaluate

if TYPE_CHECKING:
    from aiflows.llm import Backend

__all__ = ["JudgeScorer", "normalize_number", "normalize_text", "score_game24", "score_gsm8k", "score_kbqa"]

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")


def normalize_number(text: str) -> Fraction | None:
    """`"1,234.50"` -> 1234.5 as an exact fraction; None when there is no number."""
    found = _NUMBER.findall(text.replace("$", ""))
    if not found:
        return None
    try:
        return Fraction(found[-1].replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return None


def normalize_text(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces (SQuAD's normalisation)."""
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def _example_answer(example: Any) -> str:
    return str(getattr(example, "answer", example))


def score_game24(response: str, example: Any) -> float:
    """1.0 when `response` (its last line with an expression) uses the puzzle's numbers once each and equals 24."""
    numbers = Counter(int(n) for n in _example_answer(example).split())
    candidates = [line.split("=")[0] for line in response.strip().splitlines()[::-1] if re.search(r"\d", line)]
    for expression in candidates:
        used = Counter(int(n) for n in re.findall(r"\d+", expression))
        if used != numbers:
            continue
        try:
            return 1.0 if evaluate(expression) == 24 else 0.0
        except CalculationError:
            return 0.0
    return 0.0


def score_gsm8k(response: str, example: Any) -> float:
    got, want = normalize_number(response), normalize_number(_example_answer(example))
    return 1.0 if got is not None and got == want else 0.0


def score_kbqa(response: str, example: Any) -> float:
    want = _example_answer(example)
    if normalize_text(response) == normalize_text(want):
        return 1.0
    got, number = normalize_number(response), normalize_number(want)
    return 1.0 if number is not None and got == number and len(_NUMBER.findall(response)) == 1 else 0.0


class JudgeScorer:
    """A chat model judges whether the response answers like the reference (1.0 yes, 0.0 no)."""

    def __init__(self, backend: Backend, model: str = "") -> None:
        self.backend = backend
        self.model = model

    async def score(self, question: str, response: str, reference: str) -> float:
        from aiflows.llm import ChatMessage, Request

        prompt = (
            f"Question: {question}\nReference answer: {reference}\nResponse: {response}\n"
            "Does the response give the same final answer as the reference? Reply with exactly YES or NO."
        )
        done = await self.backend.complete(
            Request(model=self.model, messages=(ChatMessage(role="user", content=prompt),), temperature=0)
        )
        words = re.findall(r"\b(YES|NO)\b", done.content.upper())
        return 1.0 if words and words[0] == "YES" else 0.0
