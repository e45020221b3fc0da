"""A chat flow and a Python tool flow in a loop: the model asks for calculations, the tool does
them, and the loop ends when the model gives its answer.

    python examples/chat_tool_loop.py "What is 17 * 23 + 4?" --model openai/gpt-4o-mini
    python examples/chat_tool_loop.py "What is 2 ** 10?" --model hf:      # local Qwen2.5-Coder-0.5B
    AIFLOWS_MODEL=ollama/llama3 python examples/chat_tool_loop.py "What is 7 * 6?"
    python examples/chat_tool_loop.py "What is 9 * 9?" --model openai/qwen --api-base http://127.0.0.1:8000/v1

Keys come from the provider's usual variable (OPENAI_API_KEY, ...) or AIFLOWS_<PROVIDER>_API_KEYS.
"""

from __future__ import annotations

import argparse
import ast
import operator
import os
import re
import uuid
from typing import Any

from aiflows import Loop, Sequential, flow
from aiflows.llm import ChatFlow

SYSTEM = (
    "You solve arithmetic questions with a calculator.\n"
    "To compute something, reply with exactly one line: CALC: <python arithmetic expression>\n"
    "When you know the final answer, reply with exactly one line: ANSWER: <the answer>"
)

_OPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def evaluate(expression: str) -> float | int:
    """Arithmetic only: numbers, + - * / // % ** and parentheses (no names, no calls)."""

    def walk(node: ast.AST) -> float | int:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 100:
                raise ValueError("exponent too large")
            return _OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.operand))
        raise ValueError(f"not allowed in a calculation: {ast.dump(node)[:60]}")

    return walk(ast.parse(expression.strip(), mode="eval"))


@flow
def calculator(content: str) -> dict:
    """The tool: read the model's reply, compute what it asked for, or notice that it answered."""
    answer = re.search(r"ANSWER:\s*(.+)", content)
    if answer:
        return {"done": True, "answer": answer.group(1).strip(), "observation": ""}
    calc = re.search(r"CALC:\s*(.+)", content)
    if not calc:
        return {"done": False, "observation": "Reply with CALC: <expression> or ANSWER: <answer>."}
    expression = calc.group(1).strip().strip("`")
    try:
        result = f"{expression} = {evaluate(expression)}"
    except (ValueError, SyntaxError, ZeroDivisionError, OverflowError) as exc:
        result = f"error: {exc}"
    return {"done": False, "observation": result}


def build(model: str | None = None, api_base: str | None = None, *, max_rounds: int = 6) -> Loop:
    """The loop; `model`/`api_base` override AIFLOWS_MODEL/AIFLOWS_API_BASE when given."""
    env = dict(os.environ)
    if model is not None:
        env.pop("AIFLOWS_MODEL", None)
        env.pop("AIFLOWS_API_BASE", None)
    assistant = ChatFlow(
        name="assistant",
        config={
            "model": model,
            "api_base": api_base,
            "system_prompt": SYSTEM,
            "first_prompt": "{{ question }}",
            "later_prompt": "Calculator: {{ observation }}",
            "temperature": 0,
            "max_tokens": 200,
        },
        env=env,
    )
    turn = Sequential(assistant, calculator, name="turn")
    return Loop(turn, until="done", max_rounds=max_rounds, name="chat_tool_loop")


def main(question: str, model: str | None = None, api_base: str | None = None) -> dict:
    # A fresh session per question: the default run store keeps conversations between runs.
    out = build(model, api_base).run_sync({"question": question}, session=f"question-{uuid.uuid4().hex}")
    return {"answer": out.get("answer"), "done": bool(out.get("done")), "usage": out.get("usage")}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", help="an arithmetic question")
    parser.add_argument("--model", default=None, help="model string (default: AIFLOWS_MODEL, else the local default)")
    parser.add_argument("--api-base", default=None, help="OpenAI-compatible endpoint for the model")
    args = parser.parse_args()

    def ask() -> int:
        result = main(args.question, args.model, args.api_base)
        print(f"answer: {result['answer']}" if result["done"] else "no answer within the round limit")
        return 0 if result["done"] else 1

    from script_exit import run  # one line, no traceback, on a missing key or Ctrl-C

    run(ask)
