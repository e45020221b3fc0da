"""Default prompts of the LLM modules, one per phase, as `str.format` templates.

They are rendered on every module call, so they are plain format strings (a tenth of a jinja2
render); prompts a user gives (`LLMModule(prompts=...)`) are jinja2 templates. Each asks for a
small JSON object and also names the labelled-text shape the tolerant parser reads, so a small
model that ignores JSON still gives a usable answer.
"""

from __future__ import annotations

__all__ = ["PROMPTS", "SYSTEM"]

SYSTEM = "You are one module of a tool-using agent. Follow the requested output format exactly."

_ANALYSIS = """Query: {query}

Available tools:
{tools}

Analyse the query: what it asks, what information and skills it needs, and which of the tools may help.
Answer with a short analysis in plain text."""

_NEXT_STEP = """Query: {query}

Query analysis: {analysis}

Available tools:
{tools}

Memory of previous steps:
{memory}

This is turn {turn} of at most {max_turns}. Choose the single next step: one sub-goal and one tool
(exactly one of: {tool_list}).
Answer with JSON {{"justification": ..., "context": ..., "sub_goal": ..., "tool_name": ...}}
or with the lines
Justification: ...
Context: ...
Sub-Goal: ...
Tool Name: ..."""

_COMMAND = """Query: {query}

Sub-goal: {sub_goal}
Context: {context}

Tool to use:
{tool}

Write the tool call that achieves the sub-goal, with arguments that fit the tool's input.
Answer with JSON {{"analysis": ..., "explanation": ..., "command": {{<argument>: <value>, ...}}}}
or with a code block containing tool.execute(<argument>=<value>, ...)."""

_VERIFY = """Query: {query}

Query analysis: {analysis}

Memory of previous steps:
{memory}

Does the memory hold everything needed to answer the query completely and correctly?
Answer with JSON {{"analysis": ..., "stop": true|false}}
or end with the line "Conclusion: STOP" (enough to answer) or "Conclusion: CONTINUE" (another step is needed)."""

_ANSWER = """Query: {query}

Memory of previous steps:
{memory}

Using the memory, answer the query. Explain briefly, then give the final answer alone inside
<answer>...</answer>."""

PROMPTS: dict[str, str] = {
    "analysis": _ANALYSIS,
    "next_step": _NEXT_STEP,
    "command": _COMMAND,
    "verify": _VERIFY,
    "answer": _ANSWER,
}
