"""A scripted model for agent tests: it reads the module prompt it is sent (over the OpenAI protocol)
and answers as a careful agent would, computing every value from the prompt itself.

Plan: retrieve the city's population, then add with the calculator, then stop; the answer is the
calculator's result as memory holds it. Importable by worker processes (PYTHONPATH has this folder).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiflows.llm.testing import Reply, SeenRequest


def prompt_of(seen: SeenRequest) -> str:
    return str(seen.messages[-1]["content"])


def turn_of(prompt: str) -> int:
    found = re.search(r"This is turn (\d+)", prompt)
    return int(found.group(1)) if found else 0


def memory_results(prompt: str, tool: str) -> list[str]:
    """The results memory shows for steps that used `tool`."""
    return re.findall(rf"Tool: {tool}\n.*?Result: (.*?)(?=\nAction Step|\n\n|\Z)", prompt, re.DOTALL)


def city_of(prompt: str) -> str:
    found = re.search(r"of the city (\w+)", prompt)
    return found.group(1) if found else ""


def planner_text(prompt: str, plan: list[str]) -> str:
    """Labelled text (not JSON), as small models write, for turn N's tool in `plan`."""
    turn = turn_of(prompt)
    tool = plan[min(turn, len(plan)) - 1]
    goal = {"retrieve": "find the population", "calculator": "add the numbers"}.get(tool, "do something")
    context = " ".join(" ".join(r.split()) for r in memory_results(prompt, "retrieve")) or "none"
    return f"Justification: step {turn} of the plan.\nContext: {context}\nSub-Goal: {goal}\nTool Name: {tool}"


def executor_text(prompt: str) -> str:
    tool = re.search(r"^- (\w+):", prompt, re.MULTILINE)
    name = tool.group(1) if tool else ""
    if name == "retrieve":
        return '```python\nexecution = tool.execute(query="population of ' + city_of(prompt) + '")\n```'
    if name == "calculator":
        context = re.search(r"^Context: (.*)$", prompt, re.MULTILINE)
        population = re.search(r"population of (\d+)", context.group(1)) if context else None
        number = population.group(1) if population else "0"
        extra = re.search(r"plus (\d+)", prompt)
        return json.dumps(
            {"analysis": "add", "command": {"expression": f"{number} + {extra.group(1) if extra else 0}"}}
        )
    if name == "fails":
        return json.dumps({"command": {"x": 1}})
    return json.dumps({"command": {"query": "anything"}})


def verifier_text(prompt: str) -> str:
    done = bool(memory_results(prompt, "calculator"))
    return "The memory has the sum.\nConclusion: STOP" if done else "Not yet.\nConclusion: CONTINUE"


def generator_text(prompt: str) -> str:
    results = memory_results(prompt, "calculator")
    value = results[-1].strip().split()[0] if results else "unknown"
    return f"From the memory, the result is {value}.\n<answer>{value}</answer>"


def responder(plan: list[str] | None = None) -> Any:
    """A loopback responder playing every module; the planner follows `plan` (tool per turn)."""
    steps = plan or ["retrieve", "calculator"]

    def answer(seen: SeenRequest) -> Reply | str:
        prompt = prompt_of(seen)
        if "Analyse the query" in prompt:
            return "The query needs a fact from the corpus and one addition."
        if "Choose the single next step" in prompt:
            return planner_text(prompt, steps)
        if "Write the tool call" in prompt:
            return executor_text(prompt)
        if "Does the memory hold" in prompt:
            return verifier_text(prompt)
        if "answer the query" in prompt:
            return generator_text(prompt)
        return "I do not know this prompt."

    return answer
