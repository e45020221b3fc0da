"""Multi-pass problems judged as the format says: as many passes as `limits.validation_passes`
allows, and a validator asking for one more than that is a judge error, never an accept."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from aiflows.judge import Judge, Verdict
from aiflows.problems import ProblemError, load_package

pytestmark = pytest.mark.slow

# Pass k gets `k`; the program must echo it. The answer file says how many passes the validator wants.
COUNTING_VALIDATOR = textwrap.dedent(
    """
    import sys
    given, answer, feedback = sys.argv[1], sys.argv[2], sys.argv[3]
    k = int(open(given).read())
    wanted = int(open(answer).read())
    if sys.stdin.read().strip() != str(k):
        open(feedback + "/judgemessage.txt", "w").write(f"pass {k}: expected {k}")
        sys.exit(43)
    if k < wanted:
        open(feedback + "/nextpass.in", "w").write(f"{k + 1}\\n")
    sys.exit(42)
    """
)

ECHO = "print(input())\n"
WRONG_ON_THIRD = "k = int(input())\nprint(k if k < 3 else 0)\n"


def package(root: Path, yaml: str, passes_wanted: int) -> Path:
    (root / "data" / "secret").mkdir(parents=True)
    (root / "data" / "secret" / "1.in").write_text("1\n")
    (root / "data" / "secret" / "1.ans").write_text(f"{passes_wanted}\n")
    (root / "output_validators" / "v").mkdir(parents=True)
    (root / "output_validators" / "v" / "validate.py").write_text(COUNTING_VALIDATOR)
    (root / "problem.yaml").write_text(yaml)
    return root


LEGACY = "name: Passes\nvalidation: custom multi-pass\nlimits:\n  validation_passes: {n}\n"
MODERN = "problem_format_version: 2023-07-draft\nname: Passes\ntype: multi-pass\nlimits:\n  validation_passes: {n}\n"


@pytest.mark.parametrize("yaml", [LEGACY, MODERN], ids=["legacy", "2023-07"])
def test_every_allowed_pass_is_run_and_judged(judger: Judge, tmp_path: Path, yaml: str) -> None:
    problem = load_package(package(tmp_path / "p", yaml.format(n=3), passes_wanted=3))
    assert problem.metadata["validation_passes"] == 3
    assert judger.judge(problem, ECHO, "python").verdict == Verdict.AC
    failed = judger.judge(problem, WRONG_ON_THIRD, "python")
    assert failed.verdict == Verdict.WA  # accepted when only two passes were run
    assert failed.first_failure.message.endswith("(pass 3)")  # type: ignore[union-attr]


def test_a_validator_asking_for_a_pass_beyond_the_last_is_a_judge_error(judger: Judge, tmp_path: Path) -> None:
    problem = load_package(package(tmp_path / "p", LEGACY.format(n=2), passes_wanted=3))
    judged = judger.judge(problem, ECHO, "python")
    assert judged.verdict == Verdict.JE
    assert "nextpass.in" in judged.first_failure.message  # type: ignore[union-attr]
    assert "validation_passes" in judged.first_failure.message  # type: ignore[union-attr]


def test_default_is_two_passes_and_a_bad_count_is_named(tmp_path: Path) -> None:
    root = package(tmp_path / "p", "name: P\nvalidation: custom multi-pass\n", passes_wanted=2)
    assert load_package(root).metadata["validation_passes"] == 2
    for bad in ("1", "two", "2.5"):
        (root / "problem.yaml").write_text(LEGACY.format(n=bad))
        with pytest.raises(ProblemError, match="at least 2") as info:
            load_package(root)
        assert info.value.key == "limits.validation_passes"
