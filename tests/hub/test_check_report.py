"""`hub check` reads pytest's verdict from its exit code and JUnit report, not from its last line of output."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows.hub import HubError, check_flow, new_flow

# Printed after pytest's summary, as a deprecation warning from a plugin or an interpreter shutdown would be.
LATE_WARNING = """
import atexit
import sys

atexit.register(lambda: print("DeprecationWarning: something noisy at exit", file=sys.stderr))
"""


def test_summary_comes_from_the_report_even_when_output_ends_with_a_warning(tmp_path: Path) -> None:
    folder = new_flow("bob/noisy", tmp_path / "noisy")
    (folder / "tests" / "conftest.py").write_text(LATE_WARNING)
    (folder / "tests" / "test_skip.py").write_text(
        "import pytest\n\n\n@pytest.mark.skip(reason='later')\ndef test_later():\n    pass\n"
    )
    assert check_flow(folder).tests == "2 passed, 1 skipped"


def test_no_tests_collected_is_its_own_error(tmp_path: Path) -> None:
    folder = new_flow("bob/empty", tmp_path / "empty")
    (folder / "tests" / "test_flow.py").write_text("# no tests yet\n")
    with pytest.raises(HubError, match="pytest collected no tests in tests/"):
        check_flow(folder)


def test_a_failing_test_is_reported_with_pytest_exit_code(tmp_path: Path) -> None:
    folder = new_flow("bob/broken", tmp_path / "broken")
    (folder / "tests" / "test_flow.py").write_text("def test_fails():\n    assert 1 == 2\n")
    with pytest.raises(HubError, match=r"tests failed \(pytest exit 1\)"):
        check_flow(folder)
