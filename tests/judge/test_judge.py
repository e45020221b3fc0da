"""Verdicts for Python, C and C++ programs, samples vs all tests, feedback, async and limits."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from aiflows.judge import Judge, JudgeConfig, Verdict, judge, judge_async, judge_samples

pytestmark = pytest.mark.slow

SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
SUM_C = '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); }\n'
SUM_CPP = "#include <iostream>\nint main() { long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n"
SUM_TESTS = [("1 2\n", "3\n"), ("10 20\n", "30\n"), ("-5 5\n", "0\n")]


@pytest.fixture
def sum_problem(make_problem):  # type: ignore[no-untyped-def]
    return make_problem(SUM_TESTS, samples=1, id="sum")


@pytest.mark.parametrize(("code", "language"), [(SUM_PY, "python"), (SUM_C, "c"), (SUM_CPP, "cpp"), (SUM_CPP, "C++")])
def test_correct_programs_are_accepted(judger: Judge, sum_problem, code: str, language: str) -> None:  # type: ignore[no-untyped-def]
    judgement = judger.judge(sum_problem, code, language)
    assert judgement.verdict == Verdict.AC
    assert judgement.passed == judgement.total_tests == 3
    assert [t.is_sample for t in judgement.tests] == [True, False, False]


def test_wrong_answer_names_the_test_and_the_difference(judger: Judge, sum_problem) -> None:  # type: ignore[no-untyped-def]
    code = "a, b = map(int, input().split())\nprint(a + b if a > 0 else 1)\n"
    judgement = judger.judge(sum_problem, code, "python")
    assert judgement.verdict == Verdict.WA
    fail = judgement.first_failure
    assert fail is not None and fail.name == "secret/2"
    assert judgement.passed == 2
    assert fail.diff == "line 1, token 1: expected '0', got '1'"
    text = judgement.feedback()
    assert "Wrong answer (WA) on hidden test secret/2 after passing 2 of 3 tests." in text
    assert "Expected output:\n0" in text and "Your output:\n1" in text


def test_stops_at_the_first_failure(judger: Judge, sum_problem) -> None:  # type: ignore[no-untyped-def]
    judgement = judger.judge(sum_problem, "print(0)\n", "python")
    assert [t.verdict for t in judgement.tests] == [Verdict.WA]


def test_judge_samples_runs_only_and_all_samples(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1 1\n", "2\n"), ("2 2\n", "4\n"), ("3 3\n", "7\n")], samples=2)
    code = "a, b = map(int, input().split())\nprint(a + b)\n"
    on_samples = judger.judge_samples(problem, code, "python")
    assert on_samples.verdict == Verdict.AC and on_samples.samples_only
    assert [t.name for t in on_samples.tests] == ["sample/0", "sample/1"]
    assert judger.judge(problem, code, "python").verdict == Verdict.WA  # the hidden test's answer is wrong
    wrong = judger.judge_samples(problem, "print(2)\n", "python")
    assert [t.verdict for t in wrong.tests] == [Verdict.AC, Verdict.WA]  # every sample runs, for feedback
    assert "on the public samples" in wrong.to_prompt()


def test_no_samples_means_nothing_ran(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1\n", "1\n")], samples=0)
    judgement = judger.judge_samples(problem, "print(1)\n", "python")
    assert judgement.verdict == Verdict.AC and judgement.tests == []
    assert judgement.feedback() == "The problem has no public samples, so nothing was run."


def test_run_time_error_shows_the_traceback(judger: Judge, sum_problem) -> None:  # type: ignore[no-untyped-def]
    judgement = judger.judge(sum_problem, "x = 1 / 0\n", "python")
    assert judgement.verdict == Verdict.RTE
    assert "ZeroDivisionError" in judgement.feedback()
    # the traceback starts at the program, as under python3 (no judge frames)
    assert "server.py" not in judgement.feedback() and 'main.py", line 1' in judgement.feedback()
    assert judgement.first_failure.exit_code == 1  # type: ignore[union-attr]


def test_exit_codes_and_signals(judger: Judge, sum_problem) -> None:  # type: ignore[no-untyped-def]
    assert judger.judge(sum_problem, "import sys\nsys.exit(3)\n", "python").verdict == Verdict.RTE
    assert judger.judge_samples(sum_problem, "import sys\nprint(3)\nsys.exit(0)\n", "python").verdict == Verdict.AC
    segv = "int main(void) { int *p = 0; return *p; }\n"
    judgement = judger.judge(sum_problem, segv, "c")
    assert judgement.verdict == Verdict.RTE
    assert "SIGSEGV" in judgement.first_failure.message  # type: ignore[union-attr]


def test_compile_error_is_ce_with_the_compiler_message(judger: Judge, sum_problem) -> None:  # type: ignore[no-untyped-def]
    judgement = judger.judge(sum_problem, "int main(void) { return undefined_name; }\n", "c")
    assert judgement.verdict == Verdict.CE
    assert "undefined_name" in judgement.compile_output
    assert judgement.feedback().startswith("The program did not compile (c):")


def test_time_limit_is_cpu_time(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], time_limit=0.5)
    slow = "x = 0\nfor i in range(10**9):\n    x += i\n"
    judgement = judger.judge(problem, slow, "python")
    assert judgement.verdict == Verdict.TLE
    assert "the limit is 0.5 s CPU" in judgement.first_failure.message  # type: ignore[union-attr]


def test_python_programs_see_a_normal_interpreter(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    code = textwrap.dedent(
        """
        import sys, os, fractions, threading, atexit
        assert __name__ == "__main__"
        assert sys.argv[0].endswith("main.py")
        sys.setrecursionlimit(10000)
        def depth(n):
            return 0 if n == 0 else 1 + depth(n - 1)
        assert depth(5000) == 5000
        result = []
        t = threading.Thread(target=lambda: result.append(fractions.Fraction(1, 3) * 3))
        t.start()
        atexit.register(lambda: print("done"))
        print(sys.stdin.read().strip(), result[0] if (t.join() or True) else "")
        """
    )
    problem = make_problem([("hi\n", "hi 1\ndone\n")])
    judgement = judger.judge(problem, code, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()


def test_state_does_not_leak_between_runs(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("a\n", "fresh\n"), ("b\n", "fresh\n")])
    code = textwrap.dedent(
        """
        import sys, os
        marker = "seen.txt"
        print("fresh" if not os.path.exists(marker) and not hasattr(sys, "leak") else "leaked")
        sys.leak = True
        open(marker, "w").write("x")
        """
    )
    assert judger.judge(problem, code, "python").verdict == Verdict.AC


def test_multi_file_c_submission(judger: Judge, sum_problem) -> None:  # type: ignore[no-untyped-def]
    files = {
        "add.h": "long add(long a, long b);\n",
        "add.c": '#include "add.h"\nlong add(long a, long b) { return a + b; }\n',
        "main.c": '#include <stdio.h>\n#include "add.h"\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", add(a, b)); }\n',
    }
    assert judger.judge(sum_problem, files, "c").verdict == Verdict.AC


def test_unknown_language_is_refused(judger: Judge, sum_problem) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unsupported language 'cobol'"):
        judger.judge(sum_problem, "x", "cobol")


async def test_judge_async_bounds_concurrent_runs(make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], time_limit=2.0)
    sleepy = "import time\ntime.sleep(0.4)\nprint(input())\n"
    with Judge(JudgeConfig(jobs=2)) as judger:
        loop = asyncio.get_running_loop()
        start = loop.time()
        results = await asyncio.gather(*(judger.judge_async(problem, sleepy, "python") for _ in range(4)))
        elapsed = loop.time() - start
    assert [r.verdict for r in results] == [Verdict.AC] * 4
    # 4 runs of 0.4 s, 2 at a time: at least two rounds (a bound on concurrency, not a speed check)
    assert elapsed >= 0.8


def test_module_level_functions(sum_problem) -> None:  # type: ignore[no-untyped-def]
    assert judge(sum_problem, SUM_PY, "python").verdict == Verdict.AC
    assert judge_samples(sum_problem, "print(3)\n", "python").verdict == Verdict.AC
    assert asyncio.run(judge_async(sum_problem, "print(3)\n", "python")).verdict == Verdict.WA


def test_fresh_process_path_gives_the_same_verdicts(sum_problem) -> None:  # type: ignore[no-untyped-def]
    with Judge(JudgeConfig(jobs=2, fork_server=False)) as judger:
        assert judger.judge(sum_problem, SUM_PY, "python").verdict == Verdict.AC
        assert judger.judge(sum_problem, SUM_CPP, "cpp").verdict == Verdict.AC
        assert judger.judge(sum_problem, "print(0)\n", "python").verdict == Verdict.WA
        assert judger.judge(sum_problem, "raise SystemExit(2)\n", "python").verdict == Verdict.RTE
    with Judge(JudgeConfig(jobs=1, fresh_python=True)) as judger:
        assert judger.judge(sum_problem, SUM_PY, "python").verdict == Verdict.AC
