"""`aiflows judge` must not show a secret test's data to whoever submitted the program.

The attack: submit a program that fails a hidden test (and copies its input to stderr), then
read the hidden input and answer off the report. Each test runs the real command on a real
package and looks for the distinctive secret strings in everything it printed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SECRET_INPUT = "HIDDEN-INPUT-3e9a71"
SECRET_ANSWER = "HIDDEN-ANSWER-c02d5b"
SAMPLE_INPUT = "PUBLIC-SAMPLE-77"
SAMPLE_ANSWER = "PUBLIC-ANSWER-77"

# Passes the sample; on any other input prints a wrong line, and echoes its input to stderr.
LEAKY = f"""\
import sys
data = sys.stdin.read()
sys.stderr.write("input was: " + data)
print({SAMPLE_ANSWER!r} if data.strip() == {SAMPLE_INPUT!r} else "wrong")
"""
WRONG_ON_SAMPLE = "import sys\nsys.stderr.write(sys.stdin.read())\nprint('wrong')\n"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "secretive"
    (root / "data" / "sample").mkdir(parents=True)
    (root / "data" / "secret").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Secretive\nlimits:\n  time_limit: 2\n")
    (root / "data" / "sample" / "1.in").write_text(SAMPLE_INPUT + "\n")
    (root / "data" / "sample" / "1.ans").write_text(SAMPLE_ANSWER + "\n")
    (root / "data" / "secret" / "1.in").write_text(SECRET_INPUT + "\n")
    (root / "data" / "secret" / "1.ans").write_text(SECRET_ANSWER + "\n")
    return root


def judge(package: Path, code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    submission = package.parent / "submission.py"
    submission.write_text(code)
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "judge", str(package), str(submission), "-j", "1", *flags],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("output", ["text", "json"])
def test_wrong_answer_on_a_secret_test_does_not_show_its_data(package: Path, output: str) -> None:
    done = judge(package, LEAKY, *(["--json"] if output == "json" else []))
    assert done.returncode == 1, done.stdout + done.stderr
    shown = done.stdout + done.stderr
    assert "WA" in shown and "secret/1" in shown, shown  # the verdict and the test's name still show
    assert SECRET_INPUT not in shown, f"the secret input leaked:\n{shown}"
    assert SECRET_ANSWER not in shown, f"the secret answer leaked:\n{shown}"
    assert "--show-secret" in shown, "the report should say how to see the data"
    if output == "json":
        failed = [t for t in json.loads(done.stdout)["tests"] if t["verdict"] == "WA"]
        assert [t["name"] for t in failed] == ["secret/1"]


@pytest.mark.parametrize("output", ["text", "json"])
def test_show_secret_shows_the_data(package: Path, output: str) -> None:
    done = judge(package, LEAKY, "--show-secret", *(["--json"] if output == "json" else []))
    assert done.returncode == 1, done.stdout + done.stderr
    assert SECRET_INPUT in done.stdout and SECRET_ANSWER in done.stdout, done.stdout


def test_a_failed_sample_still_shows_its_data(package: Path) -> None:
    done = judge(package, WRONG_ON_SAMPLE)
    assert done.returncode == 1, done.stdout + done.stderr
    assert SAMPLE_INPUT in done.stdout and SAMPLE_ANSWER in done.stdout, done.stdout
    assert SECRET_INPUT not in done.stdout + done.stderr
