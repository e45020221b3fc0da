"""Evaluating agents: tasks with exact answers (game24, gsm8k, kbqa), their scorers, the harness and report.

aiflows agent eval --task kbqa --agent agent.yaml [--model M] [-j N] [--limit N] [--samples K]
"""

from .harness import EvalConfig, evaluate_agent
from .kbqa import KB, Entity, KBQuestion, generate_kb, write_kbqa
from .records import QueryRecord, RecordFile
from .report import Report, summarize, write_report
from .scorers import JudgeScorer, normalize_number, normalize_text, score_game24, score_gsm8k, score_kbqa
from .tasks import TASKS, Example, Task, default_data_dir, load_task

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
