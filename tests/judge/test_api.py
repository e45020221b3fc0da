"""The package's public names, the Judgement's shape and the CLI command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import aiflows.judge
from aiflows.judge import Judgement, TestResult, Verdict

REPO = Path(__file__).resolve().parents[2]


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in dir(aiflows.judge) if not name.startswith("_")}
    modules = {name for name in public if isinstance(getattr(aiflows.judge, name), type(aiflows.judge))}
    assert set(aiflows.judge.__all__) == public - modules
    assert aiflows.judge.__all__ == sorted(aiflows.judge.__all__)


def test_feedback_names_the_failing_sample_and_expected_vs_got() -> None:
    judgement = Judgement(
        problem_id="sum",
        language="python",
        verdict=Verdict.WA,
        total_tests=2,
        samples_only=True,
        tests=[
            TestResult(name="sample/1", is_sample=True, verdict=Verdict.AC),
            TestResult(
                name="sample/2",
                is_sample=True,
                verdict=Verdict.WA,
                message="the output differs",
                input_excerpt="2 2\n",
                expected_excerpt="4\n",
                got_excerpt="5\n",
                diff="line 1, token 1: expected '4', got '5'",
            ),
        ],
    )
    text = judgement.to_prompt()
    assert text.splitlines()[0] == "Result of running your code on the public samples of problem sum: WA."
    assert "Wrong answer (WA) on sample sample/2 after passing 1 of 2 tests." in text
    assert "Input:\n2 2" in text and "Expected output:\n4" in text and "Your output:\n5" in text
    assert "First difference: line 1, token 1: expected '4', got '5'" in text
    again = Judgement.model_validate_json(judgement.model_dump_json())  # it travels as JSON on the bus
    assert again.feedback() == judgement.feedback()


def test_cli_judges_a_package(tmp_path: Path) -> None:
    package = tmp_path / "echo"
    (package / "data" / "sample").mkdir(parents=True)
    (package / "problem.yaml").write_text("name: Echo\n")
    (package / "data" / "sample" / "1.in").write_text("hi\n")
    (package / "data" / "sample" / "1.ans").write_text("hi\n")
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text("print(input())\n")
    bad.write_text("print('no')\n")
    run = [sys.executable, "-m", "aiflows.cli.judge", str(package)]
    done = subprocess.run([*run, str(good)], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert "AC  sample/1" in done.stdout
    done = subprocess.run([*run, str(bad), "--json"], capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 1
    assert Judgement.model_validate_json(done.stdout).verdict == Verdict.WA
