"""AgentFlow agents built from flows: planner, executor, verifier and generator around an evolving memory.

AgentFlow     the loop: query analysis, then (plan, execute, verify) per turn, then the answer
TurnFlow      one turn as a flow, so traces show turns with their module calls
build_agent   the four-engine agent from model strings (planner_main, planner_fixed, verifier, executor)
LLMModule     a model behind any module; PlannerFlow adds the recorder seam training collects through
Memory        the ordered, append-only record of steps serialised into prompts
tools/        tools as flows (calculator, retrieve, web_search, generalist, python_coder)
eval/         tasks (game24, gsm8k, kbqa), exact scorers and the evaluation harness
"""

# Names load on first use (PEP 562), so `aiflows --help`, which registers `aiflows agent` from here,
# does not import the agent, its tools and pydantic models it will not run.
from __future__ import annotations

from typing import TYPE_CHECKING

from aiflows.lazy import lazy_exports

if TYPE_CHECKING:
    from .agent import AgentConfig, AgentFlow
    from .build import build_agent
    from .errors import AgentError, ToolUnavailable
    from .memory import Memory, truncate
    from .modules import LLMModule, LocalPolicy, PlannerFlow, TokenBackend, TokenCompletion
    from .parsing import ParseFailure, parse_action, parse_analysis, parse_answer, parse_command, parse_decision
    from .recorder import JsonlRecorder, ListRecorder, PlannerCall, Recorder
    from .turn import TurnFlow
    from .types import (
        AgentInput,
        AgentOutput,
        ExecutorCommand,
        FinalAnswer,
        MemoryStep,
        ModuleInput,
        PlannerAction,
        QueryAnalysis,
        ToolMetadata,
        TurnRecord,
        VerifierDecision,
    )

_EXPORTS: dict[str, str] = {
    "AgentConfig": ".agent",
    "AgentError": ".errors",
    "AgentFlow": ".agent",
    "AgentInput": ".types",
    "AgentOutput": ".types",
    "ExecutorCommand": ".types",
    "FinalAnswer": ".types",
    "JsonlRecorder": ".recorder",
    "LLMModule": ".modules",
    "ListRecorder": ".recorder",
    "LocalPolicy": ".modules",
    "Memory": ".memory",
    "MemoryStep": ".types",
    "ModuleInput": ".types",
    "ParseFailure": ".parsing",
    "PlannerAction": ".types",
    "PlannerCall": ".recorder",
    "PlannerFlow": ".modules",
    "QueryAnalysis": ".types",
    "Recorder": ".recorder",
    "TokenBackend": ".modules",
    "TokenCompletion": ".modules",
    "ToolMetadata": ".types",
    "ToolUnavailable": ".errors",
    "TurnFlow": ".turn",
    "TurnRecord": ".types",
    "VerifierDecision": ".types",
    "build_agent": ".build",
    "parse_action": ".parsing",
    "parse_analysis": ".parsing",
    "parse_answer": ".parsing",
    "parse_command": ".parsing",
    "parse_decision": ".parsing",
    "truncate": ".memory",
}

__all__ = [
    "AgentConfig",
    "AgentError",
    "AgentFlow",
    "AgentInput",
    "AgentOutput",
    "ExecutorCommand",
    "FinalAnswer",
    "JsonlRecorder",
    "LLMModule",
    "ListRecorder",
    "LocalPolicy",
    "Memory",
    "MemoryStep",
    "ModuleInput",
    "ParseFailure",
    "PlannerAction",
    "PlannerCall",
    "PlannerFlow",
    "QueryAnalysis",
    "Recorder",
    "TokenBackend",
    "TokenCompletion",
    "ToolMetadata",
    "ToolUnavailable",
    "TurnFlow",
    "TurnRecord",
    "VerifierDecision",
    "build_agent",
    "parse_action",
    "parse_analysis",
    "parse_answer",
    "parse_command",
    "parse_decision",
    "truncate",
]


__getattr__ = lazy_exports(globals(), _EXPORTS)
