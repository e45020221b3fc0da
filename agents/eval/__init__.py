"""Evaluating agents: tasks with exact answers (game24, gsm8k, kbqa), their scorers, the harness and report.

aiflows agent eval --task kbqa --agent agent.yaml [--model M] [-j N] [--limit N] [--samples K]
"""

# Names load on first use (PEP 562), so `aiflows --help`, which registers `aiflows agent` from here,
# does not import the agent, its tools and pydantic models it will not run.
from __future__ import annotations

from typing import TYPE_CHECKING

from aiflows.lazy import lazy_exports

if TYPE_CHECKING:
    from .harness import EvalConfig, evaluate_agent
    from .kbqa import KB, Entity, KBQuestion, generate_kb, write_kbqa
    from .records import QueryRecord, RecordFile
    from .report import Report, summarize, write_report
    from .scorers import JudgeScorer, normalize_number, normalize_text, score_game24, score_gsm8k, score_kbqa
    from .tasks import TASKS, Example, Task, default_data_dir, load_task

_EXPORTS: dict[str, str] = {
    "Entity": ".kbqa",
    "EvalConfig": ".harness",
    "Example": ".tasks",
    "JudgeScorer": ".scorers",
    "KB": ".kbqa",
    "KBQuestion": ".kbqa",
    "QueryRecord": ".records",
    "RecordFile": ".records",
    "Report": ".report",
    "TASKS": ".tasks",
    "Task": ".tasks",
    "default_data_dir": ".tasks",
    "evaluate_agent": ".harness",
    "generate_kb": ".kbqa",
    "load_task": ".tasks",
    "normalize_number": ".scorers",
    "normalize_text": ".scorers",
    "score_game24": ".scorers",
    "score_gsm8k": ".scorers",
    "score_kbqa": ".scorers",
    "summarize": ".report",
    "write_kbqa": ".kbqa",
    "write_report": ".report",
}

__all__ = [
    "Entity",
    "EvalConfig",
    "Example",
    "JudgeScorer",
    "KB",
    "KBQuestion",
    "QueryRecord",
    "RecordFile",
    "Report",
    "TASKS",
    "Task",
    "default_data_dir",
    "evaluate_agent",
    "generate_kb",
    "load_task",
    "normalize_number",
    "normalize_text",
    "score_game24",
    "score_gsm8k",
    "score_kbqa",
    "summarize",
    "write_kbqa",
    "write_report",
]


__getattr__ = lazy_exports(globals(), _EXPORTS)
