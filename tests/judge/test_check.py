"""`aiflows judge check` and `check_package`: a package checked as verifyproblem does, its
submissions judged against what it expects, and bad packages reported by file and key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from aiflows.judge import Judge
from aiflows.judge.check import check_package

pytestmark = pytest.mark.slow

WritePackage = Callable[[Path, dict[str, str]], Path]  # the fixture in conftest.py

REPO = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli.judge", *args], capture_output=True, text=True, cwd=REPO, env=env
    )


def good_package() -> dict[str, str]:
    """An echo problem with submissions that agree, disagree and cannot be judged."""
    return {
        "problem.yaml": "name: Echo\n",
        "input_validators/validate.py": "import sys\nline = sys.stdin.read()\nsys.exit(42 if line.strip().isdigit() else 43)\n",
        "data/sample/1.in": "1\n",
        "data/sample/1.ans": "1\n",
        "data/secret/2.in": "2\n",
        "data/secret/2.ans": "2\n",
        "submissions/accepted/echo.py": "print(input())\n",
        "submissions/wrong_answer/zero.py": "print(0)\n",
        "submissions/wrong_answer/marked.py": "# @EXPECTED_RESULTS@: ACCEPTED\nprint(input())\n",
        "submissions/run_time_error/boom.py": "raise SystemExit(3)\n",
        "submissions/accepted/noentry/a.py": "print(1)\n",
        "submissions/accepted/noentry/b.py": "print(2)\n",
        "submissions/accepted/echo.scala": "object Main extends App { println(1) }\n",
    }


def test_check_on_a_real_scoring_package(tmp_path: Path, cc_data: Path) -> None:
    package = shutil.copytree(cc_data / "kattis-examples" / "oddecho", tmp_path / "oddecho")
    done = cli("check", str(package))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "agree       oddecho                partially_accepted/sol.py" in done.stdout
    assert "score=50" in done.stdout and "3 agree, 0 disagree" in done.stdout
    one = cli(str(package), str(package / "submissions/partially_accepted/sol.py"))
    assert one.returncode == 0 and "Score: 50 of 100 (" in one.stdout and "secret/subtask2: 0" in one.stdout


def test_check_on_a_real_multi_pass_interactive_package(judger: Judge, tmp_path: Path, cc_data: Path) -> None:
    package = shutil.copytree(cc_data / "bapctools" / "interactivemultipass", tmp_path / "imp")
    report = check_package(package, judger)
    assert {r.outcome for r in report.rows} == {"agree"} and len(report.rows) == 5


def test_rows_say_agree_disagree_unsupported(judger: Judge, tmp_path: Path, write_package: WritePackage) -> None:
    report = check_package(write_package(tmp_path / "echo", good_package()), judger)
    rows = {r.submission: r for r in report.rows}
    assert rows["accepted/echo.py"].outcome == "agree"
    assert rows["wrong_answer/zero.py"].outcome == "agree"
    assert rows["run_time_error/boom.py"].outcome == "agree"
    marked = rows["wrong_answer/marked.py"]  # the marker overrides the folder: AC expected and given
    assert (marked.expected, marked.outcome) == (["AC"], "agree")
    assert rows["accepted/echo.scala"].outcome == "unsupported"
    noentry = rows["accepted/noentry"]  # no entry point: the package's fault, named, counted apart
    assert noentry.outcome == "judge-error" and "'echo'" in noentry.detail and "noentry" in noentry.detail
    assert not [i for i in report.issues if i.level == "error"]
    assert not report.ok  # a judge error makes the check fail
    done = cli("check", str(tmp_path / "echo"))
    assert done.returncode == 1 and "judge-error echo" in done.stdout and "1 judge errors" in done.stdout


def test_bad_problem_yaml_is_listed_by_file_and_key(tmp_path: Path, write_package: WritePackage) -> None:
    package = write_package(
        tmp_path / "bad",
        {
            "problem.yaml": "name: Bad\ncolour: blue\nlimits:\n  time_limit: fast\n  speed: 3\n",
            "data/secret/1.in": "1\n",
            "data/secret/1.ans": "1\n",
        },
    )
    done = cli("check", str(package))
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    yaml = str(package / "problem.yaml")
    assert f"warning: {yaml} [colour]: unknown key" in done.stdout
    assert f"warning: {yaml} [limits.speed]: unknown key" in done.stdout
    assert f"error: {yaml} [limits.time_limit]" in done.stdout and "fast" in done.stdout


def test_validators_that_are_missing_crash_or_hang_are_judge_errors(
    judger: Judge, tmp_path: Path, write_package: WritePackage
) -> None:
    missing = write_package(
        tmp_path / "missing",
        {
            "problem.yaml": "name: Missing\nvalidation: custom\n",
            "data/secret/1.in": "1\n",
            "data/secret/1.ans": "1\n",
            "submissions/accepted/a.py": "print(1)\n",
        },
    )
    report = check_package(missing, judger)
    assert any(i.level == "error" and "validator" in i.message for i in report.issues), report.issues
    nonsense = write_package(
        tmp_path / "nonsense",
        {
            "problem.yaml": "name: Nonsense\nvalidation: custom\n",
            "output_validators/v/validate.py": "print('what?')\n",  # exits 0: neither 42 nor 43
            "data/secret/1.in": "1\n",
            "data/secret/1.ans": "1\n",
            "submissions/accepted/a.py": "print(1)\n",
            "submissions/wrong_answer/b.py": "print(2)\n",
        },
    )
    report = check_package(nonsense, judger)
    assert [r.outcome for r in report.rows] == ["judge-error", "judge-error"]  # both judged, both named
    assert all("validate.py" in r.detail and "'nonsense'" in r.detail for r in report.rows)
    hang = write_package(
        tmp_path / "hang",
        {
            "problem.yaml": "name: Hang\nvalidation: custom interactive\nlimits:\n  time_limit: 1\n",
            "output_validators/v/interactor.py": textwrap.dedent(
                """
                import time
                time.sleep(1000)
                """
            ),
            "data/secret/1.in": "1\n",
            "data/secret/1.ans": "",
            "submissions/accepted/a.py": "print(input())\n",
        },
    )
    report = check_package(hang, judger)
    (row,) = report.rows
    assert row.outcome == "judge-error" and "interactor did not exit" in row.detail and "interactor.py" in row.detail
