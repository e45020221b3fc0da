"""Tolerant parsing of module answers: JSON (fenced or in prose), labelled lines, `tool.execute(...)`."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agents import ParseFailure, parse_action, parse_analysis, parse_answer, parse_command, parse_decision
from agents.normalize import command_of, decision_of, read_command, read_decision
from agents.parsing import action_fields, command_fields, decision_fields, match_tool

TOOLS = ["retrieve", "calculator", "python_coder"]


def test_action_from_json_in_prose_and_a_fence() -> None:
    text = (
        'Sure!\n```json\n{"justification": "j", "context": "c", "sub_goal": "find x", "tool_name": "Calculator"}\n```'
    )
    action = parse_action(text, TOOLS)
    assert (action.sub_goal, action.tool_name, action.context) == ("find x", "calculator", "c")


def test_action_from_labelled_lines_the_last_ones_win() -> None:
    text = (
        "Answer with the lines\nSub-Goal: ...\nTool Name: ...\n\n"
        "**Justification:** we need the fact.\n**Context:** none\n**Sub-goal:** look it up\n**Tool name:** `Python Coder`"
    )
    action = parse_action(text, TOOLS)
    assert action.sub_goal == "look it up" and action.tool_name == "python_coder"
    assert action.justification == "we need the fact."


def test_an_unknown_tool_is_kept_as_written_and_no_tool_fails() -> None:
    assert parse_action("Sub-Goal: fly\nTool Name: Teleporter", TOOLS).tool_name == "Teleporter"
    with pytest.raises(ParseFailure, match="no sub_goal and no tool_name"):
        parse_action("I would rather not.", TOOLS)
    assert match_tool("calculater", TOOLS) == "calculator" and match_tool("web", TOOLS) is None


def test_command_shapes() -> None:
    assert parse_command('{"analysis": "a", "command": {"expression": "1+1"}}').command == {"expression": "1+1"}
    assert parse_command('Run {"query": "who"} please').command == {"query": "who"}
    code = 'Command:\n```python\nexecution = tool.execute(query="population of Varno", k=2)\n```'
    assert parse_command(code).command == {"query": "population of Varno", "k": 2}
    assert parse_command('tool.execute("just text")').command == {"query": "just text"}
    with pytest.raises(ParseFailure, match="no tool command"):
        parse_command("execution = tool.execute(query=open('/etc/passwd').read())")  # literals only, never run


def test_decisions() -> None:
    assert parse_decision('{"analysis": "ok", "stop": true}').stop is True
    assert parse_decision("The memory is complete.\nConclusion: STOP").stop is True
    assert parse_decision("We could STOP, but better CONTINUE").stop is False
    with pytest.raises(ParseFailure, match="neither STOP nor CONTINUE"):
        parse_decision("maybe")


def test_answers_and_analysis() -> None:
    assert parse_answer("Reasoning...\n<answer> 42 </answer>").answer == "42"
    assert parse_answer("<answer>1</answer> then <ANSWER>2</ANSWER>").answer == "2"
    assert parse_answer("just 7").answer == "just 7"
    assert parse_analysis('{"analysis": "needs maths"}').analysis == "needs maths"
    assert parse_analysis("free text").analysis == "free text"


@pytest.mark.parametrize(
    "text",
    [
        '{"command": {"expression": "1+1"}}',
        '{"analysis": "a", "explanation": "e", "command": {"query": "who", "k": 2}, "extra": 1}',
        '{"analysis": null, "command": {"q": 1}} then {"command": {"q": 2}}',
        '{"command": "not a dict"}',
        'Run {"query": "who"} please',
        'Command:\n```python\nexecution = tool.execute(query="population of Varno", k=2)\n```\nExplanation: look',
    ],
)
def test_command_fields_are_the_parsed_models_fields(text: str) -> None:
    try:
        expected = parse_command(text).model_dump()
    except ParseFailure:
        with pytest.raises(ParseFailure):
            command_fields(text)
        return
    assert command_fields(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Justification: go on\nContext: none\nSub-Goal: wait\nTool Name: noop",
        "Sub-Goal: add\nTool Name: `Calculator`",
        '{"justification": "j", "context": "c", "sub_goal": "s", "tool_name": "Python Coder"}',
        "Sub-Goal: fly\nTool Name: Teleporter",
        "no labels here",
    ],
)
def test_action_fields_are_the_parsed_models_fields(text: str) -> None:
    try:
        expected = parse_action(text, TOOLS).model_dump()
    except ParseFailure:
        with pytest.raises(ParseFailure):
            action_fields(text, TOOLS)
        return
    assert action_fields(text, TOOLS) == expected


@pytest.mark.parametrize(
    "text",
    ["Conclusion: CONTINUE", "The memory is complete.\nConclusion: STOP", '{"analysis": "ok", "stop": true}', "maybe"],
)
def test_decision_fields_are_the_parsed_models_fields(text: str) -> None:
    try:
        expected = parse_decision(text).model_dump()
    except ParseFailure:
        with pytest.raises(ParseFailure):
            decision_fields(text)
        return
    assert decision_fields(text) == expected


@pytest.mark.parametrize(
    "output",
    [
        {"content": "", "stop": True, "analysis": "done"},
        {"content": "", "stop": False},
        {"stop": "yes", "analysis": "a"},  # not a bool: the model's reading
        {"stop": True, "analysis": None, "parsed": {"stop": False}},
        {"content": "Conclusion: STOP"},
        {"content": "hmm"},
    ],
)
def test_decision_of_reads_what_read_decision_reads(output: dict[str, object]) -> None:
    decision = read_decision(output)
    assert decision_of(output) == (decision.stop, decision.analysis)


@pytest.mark.parametrize(
    "output",
    [
        {"content": "", "command": {"query": "x"}, "analysis": "a", "explanation": "e"},
        {"command": {"query": "x"}, "analysis": 3},  # not text: the model's reading
        {"command": {1: "x"}},
        {"command": "text", "parsed": {"command": {"q": 1}}},
        {"content": '{"expression": "1+2"}'},
    ],
)
def test_command_of_reads_what_read_command_reads(output: dict[str, object]) -> None:
    try:
        expected = read_command(output).command
    except (ParseFailure, ValidationError):
        with pytest.raises((ParseFailure, ValidationError)):
            command_of(output)
        return
    assert command_of(output) == expected
