"""`calculator`: exact arithmetic on rationals with a real parser (no `eval`).

Grammar (precedence climbing): expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
unary := ('+'|'-') unary | power; power := atom ('^'|'**' unary)?; atom := number | '(' expr ')'.
Numbers are integers, decimals or fractions; results are exact `Fraction`s.
"""

from __future__ import annotations

import re
from fractions import Fraction

from pydantic import BaseModel, Field

from aiflows.context import Context

from .base import ToolFlow, ToolResult

__all__ = ["CalculatorTool", "CalculationError", "evaluate", "format_fraction"]

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(\*\*|[-+*/^()]))")
_MAX_EXPONENT = 10_000


class CalculationError(ValueError):
    """The expression does not parse, divides by zero, or asks too much."""


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    text = text.replace("×", "*").replace("÷", "/").replace("−", "-").replace(",", "")
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        found = _TOKEN.match(text, pos)
        if found is None:
            raise CalculationError(f"unexpected {text[pos:].strip()[:10]!r} at position {pos}")
        out.append(found.group(1) or found.group(2))
        pos = found.end()
    return out


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise CalculationError("the expression ends too early")
        self.i += 1
        return token

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            right = self.unary()
            if op == "/" and right == 0:
                raise CalculationError("division by zero")
            value = value * right if op == "*" else value / right
        return value

    def unary(self) -> Fraction:
        if self.peek() in ("+", "-"):
            return -self.unary() if self.take() == "-" else self.unary()
        return self.power()

    def power(self) -> Fraction:
        base = self.atom()
        if self.peek() in ("^", "**"):
            self.take()
            exponent = self.unary()
            if exponent.denominator != 1 or abs(exponent) > _MAX_EXPONENT:
                raise CalculationError(f"exponent {exponent} is not a whole number up to {_MAX_EXPONENT}")
            if base == 0 and exponent < 0:
                raise CalculationError("division by zero")
            return base ** int(exponent)
        return base

    def atom(self) -> Fraction:
        token = self.take()
        if token == "(":
            value = self.expr()
            if self.peek() != ")":
                raise CalculationError("a '(' is not closed")
            self.take()
            return value
        if token[0].isdigit() or token[0] == ".":
            return Fraction(token)
        raise CalculationError(f"unexpected {token!r}")


def evaluate(expression: str) -> Fraction:
    """The exact value of an arithmetic expression.

    >>> evaluate("(1 + 2) / 3 * 8")
    Fraction(8, 1)
    """
    tokens = _tokens(expression)
    if not tokens:
        raise CalculationError("empty expression")
    parser = _Parser(tokens)
    value = parser.expr()
    if parser.peek() is not None:
        raise CalculationError(f"unexpected {parser.peek()!r} after a complete expression")
    return value


def format_fraction(value: Fraction) -> str:
    """An integer as is; otherwise the fraction and its decimal value."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator} (≈ {float(value):.10g})"


class CalculatorTool(ToolFlow):
    """Exact arithmetic on rationals."""

    class Input(BaseModel):
        expression: str = Field(description="an arithmetic expression: + - * / ^ and parentheses")

    description = "Evaluates an arithmetic expression exactly (fractions, no rounding)."
    output = "the exact value: an integer, or a fraction with its decimal value"
    limitations = "numbers and + - * / ^ ( ) only; no variables, functions or units"
    examples = [{"command": {"expression": "(3 + 5) * 12 / 4"}, "result": "24"}]

    def __init__(self, *, name: str = "calculator", **kwargs: object) -> None:
        super().__init__(name=name, **kwargs)

    async def run_tool(self, ctx: Context, data: Input) -> ToolResult:
        value = evaluate(data.expression)  # a CalculationError becomes the tool's recorded error
        return ToolResult.model_validate(
            {"result": format_fraction(value), "numerator": value.numerator, "denominator": value.denominator}
        )
