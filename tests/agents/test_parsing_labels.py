"""The one-pass reader of a planner's labelled answer gives exactly what the per-label regex gives."""

from __future__ import annotations

import random

from agents.parsing import _planner_labels, _planner_labels_by_regex, parse_action

_PIECES = [
    "Justification:",
    "justification :",
    "Context:",
    "Sub-Goal:",
    "sub goal：",
    "Tool Name:",
    "Selected_Tool_Name:",
    "tool:",
    "**Tool Name:**",
    "- Context:",
    "> Sub_Goal:",
    "## Justification:",
    "Analysis:",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "---",
    "*",
    "noop",
    "calculator",
    "find the sum",
    "a: b",
    "tool name is noop",
]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) + rng.choice(["", " ", "\n", "\n  "]) for _ in range(rng.randint(0, 14)))


def _random_lines(rng: random.Random) -> str:
    """Lines without blank ones (the one-pass path), some indented, some with an empty value."""
    words = [p for p in _PIECES if p.strip()]
    lines = [
        rng.choice(["", "", " ", "\t"]) + " ".join(rng.choice(words) for _ in range(rng.randint(1, 3)))
        for _ in range(rng.randint(1, 8))
    ]
    return "\n".join(lines) + rng.choice(["", "", "\n"])


def test_one_pass_matches_the_regex_on_random_text() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        for text in (_random_text(rng), _random_lines(rng)):
            assert _planner_labels(text) == _planner_labels_by_regex(text), repr(text)


def test_the_common_answers_read_the_same() -> None:
    action = parse_action("Justification: go on\nContext: none\nSub-Goal: wait\nTool Name: noop", ["noop"])
    assert (action.justification, action.context, action.sub_goal, action.tool_name) == (
        "go on",
        "none",
        "wait",
        "noop",
    )
    echoed = "Sub-Goal: <goal>\nTool Name: <tool>\nSub-Goal: add them\n  and check\n**Tool Name:** Calculator"
    action = parse_action(echoed, ["calculator"])
    assert (action.sub_goal, action.tool_name) == ("add them\n  and check", "calculator")
