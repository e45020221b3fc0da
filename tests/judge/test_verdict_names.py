"""Verdict names as Kattis reports them: a program that dies, of memory or otherwise, is RTE."""

from __future__ import annotations

import pytest

from aiflows.judge import Judge, Verdict
from aiflows.judge._sandbox import bwrap_works

pytestmark = [pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here")]

BAD_ALLOC = """
#include <vector>
#include <cstdio>
int main() {
    std::vector<std::vector<char>> keep;
    for (;;) keep.emplace_back(std::vector<char>(64 << 20, 1));
}
"""
ABORT = "#include <cstdlib>\nint main() { std::abort(); }\n"
EXIT_3 = "#include <cstdio>\nint main() { return 3; }\n"


def test_bad_alloc_is_rte_that_hit_the_memory_limit(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], memory_limit_mb=256)
    judgement = judger.judge(problem, BAD_ALLOC, "cpp")
    assert judgement.verdict == Verdict.RTE
    assert judgement.memory_limit_hit
    assert judgement.agrees_with("MLE") and judgement.agrees_with("RTE") and not judgement.agrees_with("WA")


@pytest.mark.parametrize(("code", "said"), [(ABORT, "SIGABRT"), (EXIT_3, "code 3")])
def test_abort_and_exit_code_are_rte_without_memory_note(judger: Judge, make_problem, code: str, said: str) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], memory_limit_mb=256)
    judgement = judger.judge(problem, code, "cpp")
    assert judgement.verdict == Verdict.RTE
    assert said in judgement.first_failure.message  # type: ignore[union-attr]
    assert not judgement.memory_limit_hit and not judgement.agrees_with("MLE")
