"""The evaluation report: accuracy with a bootstrap interval, turns and tool use, invalid actions,
tokens and cost, as JSON, markdown and a plot, rebuilt from the per-query records alone."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from aiflows.bench.metrics import bootstrap_ci

from .records import QueryRecord

__all__ = ["Report", "summarize", "write_report"]

log = logging.getLogger("agents.eval")


class Report(BaseModel):
    task: str
    queries: int  # distinct queries
    runs: int  # query x sample
    accuracy: float
    accuracy_low: float
    accuracy_high: float
    failed_runs: int  # runs that ended in an error (scored wrong)
    turns: dict[str, int] = Field(default_factory=dict)  # turns taken -> runs
    mean_turns: float = 0.0
    tool_calls: dict[str, int] = Field(default_factory=dict)
    invalid_action_rate: float = 0.0  # invalid actions / turns
    tool_error_rate: float = 0.0  # failed tool calls / tool calls attempted
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_per_run: float = 0.0
    cost_usd: float = 0.0
    stop_reasons: dict[str, int] = Field(default_factory=dict)


def summarize(task: str, records: list[QueryRecord]) -> Report:
    """The report of `records`; accuracy is the mean over queries of each query's mean over samples."""
    by_query: dict[str, list[float]] = {}
    for r in records:
        by_query.setdefault(r.id, []).append(r.score)
    per_query = [sum(v) / len(v) for v in by_query.values()]
    accuracy = sum(per_query) / len(per_query) if per_query else 0.0
    low, high = bootstrap_ci(per_query)
    turns = sum(r.turns for r in records)
    tools: Counter[str] = Counter()
    for r in records:
        tools.update(r.tool_calls)
    attempted = sum(tools.values())
    prompt = sum(r.prompt_tokens for r in records)
    completion = sum(r.completion_tokens for r in records)
    return Report(
        task=task,
        queries=len(by_query),
        runs=len(records),
        accuracy=accuracy,
        accuracy_low=low,
        accuracy_high=high,
        failed_runs=sum(r.error is not None for r in records),
        turns={str(k): v for k, v in sorted(Counter(r.turns for r in records).items())},
        mean_turns=turns / len(records) if records else 0.0,
        tool_calls=dict(tools.most_common()),
        invalid_action_rate=sum(r.invalid_actions for r in records) / turns if turns else 0.0,
        tool_error_rate=sum(r.tool_errors for r in records) / attempted if attempted else 0.0,
        prompt_tokens=prompt,
        completion_tokens=completion,
        tokens_per_run=(prompt + completion) / len(records) if records else 0.0,
        cost_usd=sum(r.cost_usd for r in records),
        stop_reasons=dict(Counter(r.stop_reason or "error" for r in records)),
    )


def _markdown(report: Report) -> str:
    r = report
    lines = [
        f"# Agent evaluation: {r.task}",
        "",
        "| metric | value |",
        "|---|---|",
        f"| accuracy | {100 * r.accuracy:.1f}% (95% CI {100 * r.accuracy_low:.1f}–{100 * r.accuracy_high:.1f}) |",
        f"| queries / runs | {r.queries} / {r.runs} |",
        f"| failed runs | {r.failed_runs} |",
        f"| mean turns | {r.mean_turns:.2f} |",
        f"| invalid-action rate | {100 * r.invalid_action_rate:.1f}% |",
        f"| tool-error rate | {100 * r.tool_error_rate:.1f}% |",
        f"| tokens (prompt / completion / per run) | {r.prompt_tokens} / {r.completion_tokens} / {r.tokens_per_run:.0f} |",
        f"| cost | ${r.cost_usd:.4f} |",
        "",
        "## Turns per run",
        "",
        *[f"- {turns} turns: {count}" for turns, count in r.turns.items()],
        "",
        "## Tool calls",
        "",
        *[f"- {tool}: {count}" for tool, count in r.tool_calls.items()],
        "",
        "## Stop reasons",
        "",
        *[f"- {reason}: {count}" for reason, count in r.stop_reasons.items()],
    ]
    return "\n".join(lines) + "\n"


def _plot(report: Report, path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plot")
        return None
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    acc = 100 * report.accuracy
    axes[0].bar(
        [report.task], [acc], yerr=[[acc - 100 * report.accuracy_low], [100 * report.accuracy_high - acc]], capsize=6
    )
    axes[0].set_ylim(0, 100)
    axes[0].set_ylabel("accuracy (%)")
    axes[1].bar(list(report.turns), list(report.turns.values()))
    axes[1].set_xlabel("turns")
    axes[1].set_ylabel("runs")
    axes[2].bar(list(report.tool_calls) or ["none"], list(report.tool_calls.values()) or [0])
    axes[2].set_ylabel("tool calls")
    fig.suptitle(f"{report.task}: {report.runs} runs")
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_report(folder: Path, report: Report) -> dict[str, Any]:
    """Write report.json, report.md and report.png (when matplotlib is there); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n")
    (folder / "report.md").write_text(_markdown(report))
    plot = _plot(report, folder / "report.png")
    return {"json": folder / "report.json", "markdown": folder / "report.md", "plot": plot}
