"""Run an agent over a task's queries: concurrent, resumable, one record per (query, sample).

Every run goes through a runtime whose store keeps its trace, so `aiflows trace <trace_id>` shows
any query turn by turn. A run that fails is recorded with its error (and scores 0); the others go on.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from aiflows.flow import Flow
from aiflows.messages import Message
from aiflows.runtime import Runtime

from ..tools.retrieve import CORPUS_ENV
from .records import QueryRecord, RecordFile
from .report import Report, summarize, write_report
from .scorers import JudgeScorer
from .tasks import Example, Task

__all__ = ["EvalConfig", "evaluate_agent"]


class EvalConfig(BaseModel):
    """What to run and where the records and the report go."""

    out: Path  # records.jsonl, report.{json,md,png}
    limit: int | None = Field(default=None, ge=1)  # the first N queries
    samples: int = Field(default=1, ge=1)  # runs per query (rollouts)
    jobs: int = Field(default=1, ge=1)  # runs at once
    progress: bool = True  # a progress bar on stderr


class _Usage:
    """Sums the `llm.usage` events of each run."""

    def __init__(self) -> None:
        self.by_run: dict[str, list[float]] = {}

    def __call__(self, event: Message) -> None:
        data = event.data
        if data.get("type") != "llm.usage":
            return
        total = self.by_run.setdefault(event.run_id, [0, 0, 0.0])
        total[0] += int(data.get("prompt_tokens") or 0)
        total[1] += int(data.get("completion_tokens") or 0)
        total[2] += float(data.get("cost_usd") or 0.0)


async def _one(
    rt: Runtime,
    agent: Flow,
    task: Task,
    example: Example,
    sample: int,
    usage: _Usage,
    judge: JudgeScorer | None,
    spec: dict[str, Any] | None,
) -> QueryRecord:
    record = QueryRecord(id=example.id, sample=sample, query=example.query, reference=example.answer)
    started = time.perf_counter()
    data = {"query": example.query, "query_id": example.id, "rollout_id": f"{example.id}#{sample}"}
    try:
        result = await rt.run(agent, data, session=f"{example.id}#{sample}", on_event=usage, spec=spec)
    except Exception as exc:  # noqa: BLE001 - a run that cannot even start is recorded, the others go on
        record.error = f"{type(exc).__name__}: {exc}"
        record.seconds = time.perf_counter() - started
        return record
    record.trace_id = result.run_id
    record.seconds = time.perf_counter() - started
    tokens = usage.by_run.pop(result.run_id, [0, 0, 0.0])
    record.prompt_tokens, record.completion_tokens, record.cost_usd = int(tokens[0]), int(tokens[1]), float(tokens[2])
    if result.error is not None:
        record.error = f"{result.error.type}: {result.error.message}"
        return record
    out = result.output or {}
    record.answer = str(out.get("answer", ""))
    record.turns = int(out.get("steps", 0))
    record.tool_calls = dict(out.get("tool_calls") or {})
    record.invalid_actions = int(out.get("invalid_actions", 0))
    record.tool_errors = int(out.get("tool_errors", 0))
    record.stop_reason = str(out.get("stop_reason", ""))
    record.trajectory = list(out.get("turns") or [])
    if judge is not None:
        try:
            record.score = await judge.score(example.query, record.answer, example.answer)
        except Exception as exc:  # noqa: BLE001 - a judge that fails scores this query 0; the others go on
            record.error = f"judge: {type(exc).__name__}: {exc}"
    else:
        record.score = task.scorer(record.answer, example)
    return record


async def evaluate_agent(
    agent: Flow,
    task: Task,
    config: EvalConfig,
    *,
    runtime: Runtime | None = None,
    judge: JudgeScorer | None = None,
    spec: dict[str, Any] | None = None,
    on_record: Callable[[QueryRecord], None] | None = None,
) -> Report:
    """Run what `records.jsonl` in `config.out` lacks, then write and return the report.

    `spec` (see `aiflows.loader.target_spec`) lets `aiflows resume` rebuild the agent of a run.
    """
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    corpus_set = bool(task.corpus) and not os.environ.get(CORPUS_ENV)
    if corpus_set:  # retrieve tools without a corpus of their own read the task's (until the run ends)
        corpus = out / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(row) + "\n" for row in task.corpus))
        os.environ[CORPUS_ENV] = str(corpus)
    file = RecordFile(out / "records.jsonl")
    done = {r.key for r in file.load()}
    examples = task.examples[: config.limit] if config.limit else task.examples
    todo = [(e, s) for e in examples for s in range(config.samples) if (e.id, s) not in done]
    usage = _Usage()
    gate = asyncio.Semaphore(config.jobs)
    progress = _progress(config.progress, len(examples) * config.samples, len(done))

    async def run(rt: Runtime, example: Example, sample: int) -> None:
        async with gate:
            record = await _one(rt, agent, task, example, sample, usage, judge, spec)
        file.append(record)
        progress(record)
        if on_record is not None:
            on_record(record)

    try:
        if runtime is not None:
            async with asyncio.TaskGroup() as group:
                for example, sample in todo:
                    group.create_task(run(runtime, example, sample))
        else:
            async with Runtime() as rt, asyncio.TaskGroup() as group:
                for example, sample in todo:
                    group.create_task(run(rt, example, sample))
    finally:
        progress(None)
        if corpus_set:
            os.environ.pop(CORPUS_ENV, None)
    wanted = {(e.id, s) for e in examples for s in range(config.samples)}
    records = [r for r in file.load() if r.key in wanted]
    report = summarize(task.name, records)
    write_report(out, report)
    return report


def _progress(enabled: bool, total: int, done: int) -> Callable[[QueryRecord | None], None]:
    """A rich progress bar (accuracy so far in its description); call with None to close it."""
    if not enabled:
        return lambda record: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    job = bar.add_task("agent eval", total=total, completed=done)
    bar.start()
    scores: list[float] = []

    def advance(record: QueryRecord | None) -> None:
        if record is None:
            bar.stop()
            return
        scores.append(record.score)
        bar.update(job, advance=1, description=f"agent eval: {100 * sum(scores) / len(scores):.0f}% right")

    return advance
