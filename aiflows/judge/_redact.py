"""Keep hidden test data hidden when a judgement is shown to whoever submitted the program.

A secret test's input and answer are the judge's, not the submitter's: printing them on a wrong
answer (or the program's output, its stderr and the checker's words, which can quote them) lets
anyone learn the hidden data one submission at a time. Samples are public and stay as they are.

    >>> shown = without_secret_data(judgement)            # doctest: +SKIP
    >>> shown.first_failure.expected_excerpt             # doctest: +SKIP
    '(hidden: secret test data; `aiflows judge --show-secret` shows it)'
"""

from __future__ import annotations

from aiflows.judge._models import Judgement, TestResult, Verdict

__all__ = ["HIDDEN", "SECRET_FIELDS", "without_secret_data"]

HIDDEN = "(hidden: secret test data; `aiflows judge --show-secret` shows it)"
# everything about a secret test that can carry its data
SECRET_FIELDS = ("input_excerpt", "expected_excerpt", "got_excerpt", "diff", "validator_feedback", "stderr_tail")


def without_secret_data(judgement: Judgement) -> Judgement:
    """A copy of `judgement` whose secret tests show no data (non-empty fields say HIDDEN)."""
    return judgement.model_copy(update={"tests": [_hide(t) for t in judgement.tests]})


def _hide(test: TestResult) -> TestResult:
    if test.is_sample:
        return test
    update: dict[str, object] = {name: HIDDEN for name in SECRET_FIELDS if getattr(test, name)}
    if test.verdict == Verdict.JE and test.message:
        # a failing validator's message quotes what it wrote, which may be the answer
        update["message"] = f"the validator failed on this secret test; {HIDDEN}"
    return test.model_copy(update=update)
