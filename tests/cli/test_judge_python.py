"""`aiflows judge --python`: Python runs under PyPy by default when installed, as contest judges run it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROGRAM = "import sys, platform\nprint(int(sys.stdin.read()) * 2)\n"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "double"
    (root / "data" / "secret").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Double\nlimits:\n  time_limit: 2\n")
    (root / "data" / "secret" / "1.in").write_text("21\n")
    (root / "data" / "secret" / "1.ans").write_text("42\n")
    (tmp_path / "double.py").write_text(PROGRAM)
    return root


def judge(package: Path, *flags: str) -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aiflows.cli",
            "judge",
            str(package),
            str(package.parent / "double.py"),
            "--json",
            *flags,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_cpython_when_asked(package: Path) -> None:
    result = judge(package, "--python", "cpython")
    assert result["verdict"] == "AC"
    assert "PyPy" not in str(result["runtime"])


def test_the_default_is_pypy_when_installed_else_cpython_with_the_time_factor(package: Path) -> None:
    result = judge(package)
    assert result["verdict"] == "AC"
    runtime = str(result["runtime"])
    if shutil.which("pypy3"):
        assert "PyPy" in runtime
    else:
        assert "CPython" in runtime and "time limit is multiplied" in runtime
