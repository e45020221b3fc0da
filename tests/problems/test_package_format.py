"""problem.yaml read as the format says: `{{constants}}` in statements, unknown keys named."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aiflows.problems import ProblemError, load_package
from aiflows.problems.constants import constant_table, substitute


def package(root: Path, yaml: str, statement: str = "") -> Path:
    (root / "data" / "secret").mkdir(parents=True)
    (root / "data" / "secret" / "1.in").write_text("1\n")
    (root / "data" / "secret" / "1.ans").write_text("1\n")
    (root / "problem.yaml").write_text(yaml)
    if statement:
        (root / "problem_statement").mkdir()
        (root / "problem_statement" / "problem.en.tex").write_text(statement)
    return root


def test_constants_table_and_substitution() -> None:
    constants = {"N": {"value": 5, "WORD": "five"}, "M": 10, "F": 1.5}
    assert constant_table(constants) == {
        "N": "5", "N.value": "5", "N.WORD": "five", "M": "10", "M.value": "10", "F": "1.5", "F.value": "1.5",
    }  # fmt: skip
    assert substitute("{{N}} {{N.WORD}} {{M}} {{UNKNOWN}} {{ N }}", constants) == "5 five 10 {{UNKNOWN}} {{ N }}"


def test_constants_are_substituted_in_the_statement(tmp_path: Path) -> None:
    yaml = "name: C\nconstants:\n  MAXN:\n    value: 100000\n    TEX: '10^5'\n"
    text = "\\begin{problem}{C}\nGiven $n \\le {{MAXN.TEX}}$ numbers (at most {{MAXN}}).\n\\end{problem}\n"
    problem = load_package(package(tmp_path / "c", yaml, text))
    assert "10^5" in problem.statement and "100000" in problem.statement and "{{" not in problem.statement


def test_unknown_keys_are_named_and_loading_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="aiflows.problems"):
        problem = load_package(package(tmp_path / "u", "name: U\ncolour: blue\nlimits:\n  speed: 3\n"))
    assert problem.metadata["unknown_keys"] == ["colour", "limits.speed"]
    assert "colour" in caplog.text and "problem.yaml" in caplog.text


def test_wrong_types_name_the_file_and_key(tmp_path: Path) -> None:
    with pytest.raises(ProblemError) as info:
        load_package(package(tmp_path / "w", "name: W\nlimits:\n  memory: lots\n"))
    assert info.value.key == "limits.memory" and str(info.value.path).endswith("problem.yaml")
