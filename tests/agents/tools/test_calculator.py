"""The calculator: exact rational arithmetic with a real parser, and clear errors (never `eval`)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from agents.tools import CalculationError, CalculatorTool, evaluate, format_fraction
from aiflows import FlowError


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", Fraction(7)),
        ("(1 + 2) * 3", Fraction(9)),
        ("8 / (3 - 8 / 3)", Fraction(24)),
        ("1/3 + 1/6", Fraction(1, 2)),
        ("-2 ^ 2", Fraction(-4)),
        ("2 ** -2", Fraction(1, 4)),
        ("0.1 + 0.2", Fraction(3, 10)),
        ("1,000 × 3 − 1", Fraction(2999)),
        ("2^3^2", Fraction(512)),
    ],
)
def test_exact_values(expression: str, value: Fraction) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("1 / (2 - 2)", "division by zero"),
        ("__import__('os')", "unexpected"),
        ("(1 + 2", "not closed"),
        ("1 2", "after a complete expression"),
        ("2 ^ 0.5", "whole number"),
        ("", "empty"),
        ("3 +", "ends too early"),
    ],
)
def test_bad_expressions_say_why(expression: str, message: str) -> None:
    with pytest.raises(CalculationError, match=message):
        evaluate(expression)


def test_format_fraction() -> None:
    assert format_fraction(Fraction(24)) == "24"
    assert format_fraction(Fraction(1, 3)) == "1/3 (≈ 0.3333333333)"


async def test_the_tool_flow_answers_and_fails_clearly() -> None:
    tool = CalculatorTool()
    out = await tool.run({"expression": "10 / 4"})
    assert out["result"] == "5/2 (≈ 2.5)" and (out["numerator"], out["denominator"]) == (5, 2)
    with pytest.raises(FlowError, match="CalculationError.*division by zero"):
        await tool.run({"expression": "1/0"})
    described = await tool.run({"describe_tool": True})
    assert described["metadata"]["name"] == "calculator"
    assert described["metadata"]["input_schema"]["required"] == ["expression"]
