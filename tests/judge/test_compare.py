"""The Kattis default output comparison."""

from __future__ import annotations

import pytest

from aiflows.judge import CompareFlags, compare_output


def test_tokens_ignore_whitespace_amount_and_case_by_default() -> None:
    assert compare_output(b"Hello  World\n", b"hello\nworld", CompareFlags()).ok


def test_case_sensitive_flag() -> None:
    result = compare_output(b"Hello\n", b"hello\n", CompareFlags.parse(["case_sensitive"]))
    assert not result.ok
    assert result.message == "line 1, token 1: expected 'Hello', got 'hello'"


def test_space_change_sensitive_flag() -> None:
    flags = CompareFlags.parse(["space_change_sensitive"])
    assert compare_output(b"a b\n", b"a b\n", flags).ok
    assert "whitespace differs" in compare_output(b"a b\n", b"a  b\n", flags).message


@pytest.mark.parametrize(
    ("flags", "got", "ok"),
    [
        (["float_tolerance", "1e-6"], b"3.0000001", True),
        (["float_tolerance", "1e-6"], b"3.1", False),
        (["float_absolute_tolerance", "0.5"], b"3.4", True),
        (["float_relative_tolerance", "0.1"], b"3.2", True),
        (["float_relative_tolerance", "0.01"], b"3.2", False),
        ([], b"3.0000001", False),  # without a tolerance numbers compare as text
    ],
)
def test_float_tolerances(flags: list[str], got: bytes, ok: bool) -> None:
    assert compare_output(b"3.0\n", got, CompareFlags.parse(flags)).ok is ok


def test_float_tolerance_flag_given_as_one_string() -> None:
    assert CompareFlags.parse(["float_tolerance 1e-4"]).float_abs == 1e-4


def test_missing_and_extra_output_are_located() -> None:
    assert compare_output(b"1 2\n", b"1", CompareFlags()).message == "output ended early: expected '2' as token 2"
    assert compare_output(b"1\n", b"1\n2", CompareFlags()).message == "line 2: extra output '2' after the expected end"


def test_the_differing_line_is_named() -> None:
    result = compare_output(b"1\n2\n3\n", b"1\n2\n4\n", CompareFlags())
    assert result.message == "line 3, token 3: expected '3', got '4'"


@pytest.mark.parametrize("flags", [["float_tolerance"], ["float_tolerance", "abc"], ["fuzzy"]])
def test_bad_flags_are_named(flags: list[str]) -> None:
    with pytest.raises(ValueError, match=flags[-1] if flags[-1] != "float_tolerance" else "needs a number"):
        CompareFlags.parse(flags)
