"""The sample problems shipped with aiflows: complete, and their submissions get their verdicts."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from aiflows.problems import Problem, ProblemSet, Submission, list_submissions, load_samples

pytestmark = pytest.mark.slow

EXPECTED_IDS = ["balanced_brackets", "circle_area", "count_primes", "grid_path", "reverse_words", "sum_list"]


@pytest.fixture(scope="module")
def samples() -> ProblemSet:
    return load_samples()


def same_output(expected: str, got: str, flags: list[str]) -> bool:
    """Token-wise comparison, with the float tolerance the problem's flags name."""
    tol = float(flags[flags.index("float_tolerance") + 1]) if "float_tolerance" in flags else None
    want, have = expected.split(), got.split()
    if len(want) != len(have):
        return False
    for a, b in zip(want, have, strict=False):
        if a == b:
            continue
        if tol is None:
            return False
        try:
            x, y = float(a), float(b)
        except ValueError:
            return False
        if not math.isclose(x, y, rel_tol=tol, abs_tol=tol):
            return False
    return True


def run(sub: Submission, problem: Problem) -> list[bool]:
    """Run a Python submission on every test with a plain subprocess; True where the output is right."""
    results = []
    for test in problem.tests:
        with test.input_path.open("rb") as stdin:
            done = subprocess.run([sys.executable, str(sub.path)], stdin=stdin, capture_output=True, timeout=120)
        results.append(
            done.returncode == 0
            and same_output(test.answer_path.read_text(), done.stdout.decode(), problem.validator_flags)
        )
    return results


def test_the_set_is_complete(samples: ProblemSet) -> None:
    assert [p.id for p in samples] == EXPECTED_IDS and samples.errors == []
    for p in samples:
        assert p.source == "samples" and p.validation == "default" and p.root is not None
        assert p.statement.startswith(f"# {p.title}") and "## Input" in p.statement and "## Sample 1" in p.statement
        assert p.samples and any(not t.is_sample for t in p.tests)
        folders = {s.folder for s in list_submissions(p.root)}
        assert {"accepted", "wrong_answer"} <= folders, p.id
    assert samples.by_id()["circle_area"].validator_flags == ["float_tolerance", "1e-6"]
    assert {p.metadata["difficulty"] for p in samples} == {"easy", "medium"}


@pytest.mark.parametrize("pid", EXPECTED_IDS)
def test_reference_solutions_pass_and_wrong_answers_fail(samples: ProblemSet, pid: str) -> None:
    problem = samples.by_id()[pid]
    assert problem.root is not None
    for sub in list_submissions(problem.root, languages={"python"}, folders={"accepted", "wrong_answer"}):
        results = run(sub, problem)
        if sub.expected == "AC":
            assert all(results), (sub.name, [t.name for t, ok in zip(problem.tests, results, strict=False) if not ok])
        else:
            assert not all(results), f"{sub.name} passes every test"


def test_the_judge_gives_each_submission_its_folder_verdict(samples: ProblemSet) -> None:
    from aiflows.judge import Judge, JudgeConfig

    seen = set()
    with Judge(JudgeConfig(jobs=2)) as judge:
        for problem in samples:
            assert problem.root is not None
            for sub in list_submissions(problem.root, languages={"python"}):
                verdict = judge.judge(problem, sub.path.read_text(), "python").verdict
                assert verdict == sub.expected, (problem.id, sub.name, verdict)
                seen.add(sub.expected)
    assert seen == {"AC", "WA", "RTE", "TLE"}
