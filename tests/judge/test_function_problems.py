"""Function-level problems (HumanEval): program + tests + check(entry_point), in the sandbox."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aiflows.judge import Judge, PackageError, Verdict
from aiflows.problems.humaneval import load_humaneval
from aiflows.problems.model import Problem

SHARED_DATA = Path(os.environ.get("AIFLOWS_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
HUMANEVAL = SHARED_DATA / "cc" / "humaneval" / "data" / "HumanEval.jsonl.gz"


@pytest.fixture(scope="module")
def humaneval() -> list[Problem]:
    if not HUMANEVAL.is_file():
        pytest.skip(f"no HumanEval data at {HUMANEVAL}")
    return list(load_humaneval(HUMANEVAL, limit=20))


def test_canonical_solutions_are_accepted(judger: Judge, humaneval: list[Problem]) -> None:
    for problem in humaneval:
        code = (problem.prompt or "") + problem.metadata["canonical_solution"]
        judgement = judger.judge(problem, code, "python")
        assert judgement.verdict == Verdict.AC, (problem.id, judgement.feedback())


def test_a_failing_assertion_is_a_wrong_answer(judger: Judge, humaneval: list[Problem]) -> None:
    problem = humaneval[0]
    code = (problem.prompt or "") + "    return None\n"
    judgement = judger.judge(problem, code, "python")
    assert judgement.verdict == Verdict.WA
    assert "AssertionError" in judgement.feedback()


def test_crash_and_timeout(judger: Judge, humaneval: list[Problem]) -> None:
    problem = humaneval[0].model_copy(update={"time_limit": 0.5})
    assert judger.judge(problem, "raise KeyError('x')\n", "python").verdict == Verdict.RTE
    spin = (problem.prompt or "") + "    while True:\n        pass\n"
    assert judger.judge(problem, spin, "python").verdict == Verdict.TLE


def test_function_problems_need_their_tests(judger: Judge, tmp_path: Path) -> None:
    problem = Problem(id="f", title="f", kind="function", entry_point="f")
    with pytest.raises(PackageError, match="problem 'f'.*needs test_code and entry_point"):
        judger.judge(problem, "def f(): pass\n", "python")
