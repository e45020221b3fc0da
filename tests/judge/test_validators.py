"""Custom output validators (Python, C with a header), interactors and multi-pass problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from aiflows.judge import Judge, Verdict
from aiflows.problems.model import Problem

pytestmark = pytest.mark.slow

# Accepts any two numbers whose sum is the judge's answer; says why it rejects.
SUM_VALIDATOR_PY = textwrap.dedent(
    """
    import sys
    want = int(open(sys.argv[2]).read())
    try:
        a, b = map(int, sys.stdin.read().split())
    except ValueError:
        open(sys.argv[3] + "/judgemessage.txt", "w").write("expected two integers")
        sys.exit(43)
    if a + b != want:
        open(sys.argv[3] + "/judgemessage.txt", "w").write(f"{a} + {b} is not {want}")
        sys.exit(43)
    sys.exit(42)
    """
)

# The same in C, with its helper in a header next to it (as validate.h / testlib.h are).
CHECK_H = "static int accept(void) { return 42; }\nstatic int reject(void) { return 43; }\n"
SUM_VALIDATOR_C = textwrap.dedent(
    """
    #include <stdio.h>
    #include "check.h"
    int main(int argc, char **argv) {
        long want, a, b;
        FILE *ans = fopen(argv[2], "r");
        if (fscanf(ans, "%ld", &want) != 1) return 1;
        if (scanf("%ld %ld", &a, &b) != 2) return reject();
        return a + b == want ? accept() : reject();
    }
    """
)

# Guess the number: the interactor answers "lower", "higher" or "correct".
GUESS_INTERACTOR = textwrap.dedent(
    """
    import sys
    secret = int(open(sys.argv[1]).read())
    for guesses in range(1, 12):
        line = sys.stdin.readline()
        if not line:
            open(sys.argv[3] + "/judgemessage.txt", "w").write("no guess")
            sys.exit(43)
        guess = int(line)
        if guess == secret:
            print("correct", flush=True)
            sys.exit(42)
        print("lower" if guess > secret else "higher", flush=True)
    open(sys.argv[3] + "/judgemessage.txt", "w").write("too many guesses")
    sys.exit(43)
    """
)
GUESS_SOLUTION = textwrap.dedent(
    """
    lo, hi = 1, 1000
    while True:
        mid = (lo + hi) // 2
        print(mid, flush=True)
        reply = input()
        if reply == "correct":
            break
        if reply == "lower":
            hi = mid - 1
        else:
            lo = mid + 1
    """
)

# Multi-pass: pass 1 gets n > 0 and must print n + 1; pass 2 gets -(n + 1) and must print 2 (n + 1).
MULTIPASS_VALIDATOR = textwrap.dedent(
    """
    import os, sys
    feedback = sys.argv[3]
    n = int(open(sys.argv[1]).read())
    got = int(sys.stdin.read())
    second = os.path.exists(feedback + "/first_done")
    if not second:
        if got != n + 1:
            sys.exit(43)
        open(feedback + "/first_done", "w").write("1")
        open(feedback + "/nextpass.in", "w").write(f"{-got}\\n")
        sys.exit(42)
    sys.exit(42 if got == -2 * n else 43)
    """
)


def _with_validator(problem: Problem, tmp_path: Path, files: dict[str, str], **fields: object) -> Problem:
    folder = tmp_path / "output_validator"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    target = folder if len(files) > 1 else folder / next(iter(files))
    return problem.model_copy(update={"validation": "custom", "output_validator": target, **fields})


def test_python_validator_accepts_any_valid_answer(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = _with_validator(
        make_problem([("7\n", "7\n"), ("10\n", "10\n")]), tmp_path, {"validate.py": SUM_VALIDATOR_PY}
    )
    solution = "n = int(input())\nprint(n - 1, 1)\n"
    assert judger.judge(problem, solution, "python").verdict == Verdict.AC
    wrong = judger.judge(problem, "n = int(input())\nprint(n, 1)\n", "python")
    assert wrong.verdict == Verdict.WA
    assert wrong.first_failure.validator_feedback == "7 + 1 is not 7"  # type: ignore[union-attr]
    assert "Checker says: 7 + 1 is not 7" in wrong.feedback()


def test_c_validator_with_its_header(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {"validate.c": SUM_VALIDATOR_C, "check.h": CHECK_H}
    problem = _with_validator(make_problem([("7\n", "7\n")]), tmp_path, files)
    assert judger.judge(problem, "print(3, 4)\n", "python").verdict == Verdict.AC
    assert judger.judge(problem, "print(3, 5)\n", "python").verdict == Verdict.WA


def test_validator_flags_are_passed_to_custom_validators(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    echo_args = "import sys\nsys.exit(42 if sys.argv[4:] == ['case_sensitive', 'x'] else 43)\n"
    problem = _with_validator(
        make_problem([("1\n", "1\n")]), tmp_path, {"v.py": echo_args}, validator_flags=["case_sensitive", "x"]
    )
    assert judger.judge(problem, "print(1)\n", "python").verdict == Verdict.AC


def test_a_crashing_validator_is_a_judge_error_naming_it(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = _with_validator(make_problem([("1\n", "1\n")]), tmp_path, {"broken.py": "raise RuntimeError('oops')\n"})
    judgement = judger.judge(problem, "print(1)\n", "python")
    assert judgement.verdict == Verdict.JE
    message = judgement.first_failure.message  # type: ignore[union-attr]
    assert "broken.py" in message and "exited with 1" in message and "prob" in message


def test_interactive_problem(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = _with_validator(
        make_problem([("500\n", ""), ("1\n", ""), ("1000\n", "")], time_limit=0.5),
        tmp_path,
        {"interactor.py": GUESS_INTERACTOR},
        validation="custom-interactive",
    )
    first = judger.judge(problem, GUESS_SOLUTION, "python")
    assert first.verdict == Verdict.AC, first.feedback()
    # a wrong strategy is rejected by the interactor, even while the program would go on
    always_one = "while True:\n    print(1, flush=True)\n    input()\n"
    judgement = judger.judge(problem, always_one, "python")
    assert judgement.verdict == Verdict.WA
    assert judgement.first_failure.validator_feedback == "too many guesses"  # type: ignore[union-attr]
    # a program that crashes after it is done is an RTE; one that hangs, a TLE
    crash = GUESS_SOLUTION + "raise SystemExit(3)\n"
    assert judger.judge(problem, crash, "python").verdict == Verdict.RTE
    hang = GUESS_SOLUTION + "import time\ntime.sleep(60)\n"
    assert judger.judge(problem, hang, "python").verdict == Verdict.TLE


def test_interactive_program_that_closes_stdout_and_hangs_is_tle(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = _with_validator(
        make_problem([("500\n", "")], time_limit=0.5),
        tmp_path,
        {"interactor.py": GUESS_INTERACTOR},
        validation="custom-interactive",
    )
    code = "import os, time\nos.close(1)\ntime.sleep(60)\n"
    assert judger.judge(problem, code, "python").verdict == Verdict.TLE


def test_multi_pass_problem(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = _with_validator(
        make_problem([("5\n", "")]), tmp_path, {"v.py": MULTIPASS_VALIDATOR}, metadata={"multi_pass": True}
    )
    good = "n = int(input())\nprint(n + 1 if n > 0 else -2 * n)\n"
    judgement = judger.judge(problem, good, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    only_first = "n = int(input())\nprint(n + 1 if n > 0 else 0)\n"
    judgement = judger.judge(problem, only_first, "python")
    assert judgement.verdict == Verdict.WA
    assert judgement.first_failure.message.endswith("(pass 2)")  # type: ignore[union-attr]


# Sends its numbers, closes its output so the program sees EOF, then checks the sum.
SUM_TO_EOF_INTERACTOR = textwrap.dedent(
    """
    import os, sys
    numbers = open(sys.argv[1]).read().split()
    sys.stdout.write("\\n".join(numbers) + "\\n")
    sys.stdout.flush()
    os.close(sys.stdout.fileno())
    sys.exit(42 if int(sys.stdin.readline()) == sum(map(int, numbers)) else 43)
    """
)


def test_interactor_that_closes_its_output_ends_the_programs_input(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = _with_validator(
        make_problem([("1 2 3\n", "")], time_limit=2.0),
        tmp_path,
        {"interactor.py": SUM_TO_EOF_INTERACTOR},
        validation="custom-interactive",
    )
    read_to_eof = "import sys\nprint(sum(int(line) for line in sys.stdin))\n"
    judgement = judger.judge(problem, read_to_eof, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    assert judgement.tests[0].wall_s < 1.5  # EOF came when the interactor closed, not at the limit
