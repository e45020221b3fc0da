"""The benchmark runner: every problem (times `samples`) through a cc flow, scored on all tests.

    result = await run_bench(BenchConfig(flow="Code_Debug", problems=["samples"], jobs=4))

Problems run concurrently (bounded by `jobs`) on one in-process runtime. Each attempt is
scored by the judge on every test (the flow itself only ever saw the public samples) and
written to `records.jsonl` as soon as it finishes; a rerun skips what is recorded. A problem
that cannot be loaded, run or judged becomes an error record naming the problem and the file,
and the run goes on with the others. The report is written at the end (see `report.py`).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aiflows.problems import Problem, ProblemError, load_problems

from .attempts import Attempts
from .config import BenchConfig, check_resumable
from .model_check import check_flow_models
from .progress import ProgressBar
from .records import ProblemRecord, RecordError, RecordFile, problem_digest
from .report import Report, write_report

__all__ = ["BenchResult", "load_cc_flow", "run_bench"]


class BenchResult(BaseModel):
    """What a run did: how many attempts ran now, how many records of the run were reused, and the report."""

    out: Path  # the run folder
    ran: int
    skipped: int  # records reused from earlier sessions of this run
    reused_errors: int = 0  # of those, errors (rerun with retry_failed)
    failed: int = 0  # attempts of the whole run whose record is an error
    attempts: int = 0  # attempts of the whole run with a record
    report: Report

    @property
    def all_failed(self) -> bool:
        """Every attempt of the run ended in an error: nothing was answered, nothing to score."""
        return self.attempts > 0 and self.failed == self.attempts


def load_cc_flow(config: BenchConfig, sample: int) -> Any:
    """The cc flow for one sample index, built from the hub folder with the benchmark's settings."""
    from aiflows.hub import load_folder

    flow_config: dict[str, Any] = {
        "flow": config.flow,
        "temperature": config.sampling_temperature(),
        "cache": config.cache,
        "judge_jobs": max(1, min(config.jobs, os.cpu_count() or 2)),
        "sandbox": config.sandbox,
    }
    if config.model:
        flow_config["model"] = config.model
    if config.api_base:
        flow_config["api_base"] = config.api_base
    if config.samples > 1:
        flow_config["seed"] = sample  # different samples: different requests, different cache entries
    flow_config.update(config.flow_config)
    name = f"{config.flow}-s{sample}"
    return load_folder(Path(config.flows_dir), config=flow_config, name=name)


@dataclass
class _Loaded:
    problems: list[Problem]
    errors: list[ProblemRecord]
    raised: list[ProblemError]


def _load(config: BenchConfig) -> _Loaded:
    problems: list[Problem] = []
    errors: list[ProblemRecord] = []
    raised: list[ProblemError] = []
    model = config.model_choice().model
    for source in config.problems:
        try:
            loaded = load_problems(source, limit=config.limit)
        except ProblemError as exc:
            loaded_errors = [exc]
        else:
            loaded_errors = list(loaded.errors)
            problems.extend(loaded)
        raised.extend(loaded_errors)
        for err in loaded_errors:
            name = err.problem or (err.path.name if err.path is not None else str(source))
            errors.append(
                ProblemRecord(
                    problem_id=name,
                    status="load_error",
                    flow=config.flow,
                    model=model,
                    error=RecordError(
                        type=type(err).__name__, message=str(err), file=str(err.path) if err.path else None
                    ),
                    finished_at=time.time(),
                )
            )
    return _Loaded(problems, errors, raised)


async def run_bench(config: BenchConfig, *, on_record: Callable[[ProblemRecord], None] | None = None) -> BenchResult:
    """Run the benchmark `config` describes, resuming from the records in `config.out`.

    Raises:
        ConfigError: `config.out` holds a different benchmark, or the flow config is wrong.
        HubError: the cc flow folder cannot be loaded.
        ProblemError: no problem could be loaded (a wrong path): nothing ran.
        LLMError: a model failed its check before the run (no key, unknown model, context too small).
    """
    flows = [load_cc_flow(config, k) for k in range(config.samples)]  # a wrong flow or config fails here, first
    try:
        return await _run(config, flows, on_record)
    finally:
        for flow in flows:
            close = getattr(flow, "close", None)
            if callable(close):
                close()


async def _run(config: BenchConfig, flows: list[Any], on_record: Callable[[ProblemRecord], None] | None) -> BenchResult:
    from aiflows.judge import Judge, JudgeConfig, problem_folders
    from aiflows.runtime import Runtime

    loaded = _load(config)
    if not loaded.problems and loaded.raised:  # nothing to run: say why, before any folder is made
        raise loaded.raised[0]
    check_resumable(config, write=False)  # another benchmark's folder is refused before anything
    if config.preflight:  # a missing key or model fails here, once, before any problem runs
        await asyncio.to_thread(check_flow_models, flows[0], loaded.problems)
    check_resumable(config)
    records = RecordFile(config.out)
    done = records.load()
    digests = {p.id: problem_digest(p) for p in loaded.problems}
    # A problem changed since its record was made: its record is not its answer any more.
    done = {k: r for k, r in done.items() if r.problem_digest in (None, digests.get(k[0], r.problem_digest))}
    for record in loaded.errors:
        if record.key not in done or config.retry_failed:
            records.append(record)
    # Done attempts are skipped; failed ones too unless asked; runs waiting for a person always resume.
    skip = {
        key
        for key, rec in done.items()
        if rec.status == "done" or (rec.status != "suspended" and not config.retry_failed)
    }
    todo = [(p, k) for p in loaded.problems for k in range(config.samples) if (p.id, k) not in skip]
    skipped = sum(1 for p in loaded.problems for k in range(config.samples) if (p.id, k) in skip)

    if todo:
        # every problem of the set stays hidden from every program, wherever the set is stored
        every_problem = sorted({str(f) for p in loaded.problems for f in problem_folders(p)})
        judge = Judge(
            JudgeConfig(
                jobs=max(1, min(config.jobs, os.cpu_count() or 2)),
                time_limit_cap=config.time_limit_cap,
                sandbox=config.sandbox,
                hidden_paths=tuple(every_problem),
            )
        )
        try:
            with ProgressBar(config, len(todo)) as advance:

                def finished(record: ProblemRecord) -> None:
                    advance(record)
                    if on_record is not None:
                        on_record(record)

                async with Runtime() as runtime:
                    attempts = Attempts(config, runtime, judge, flows, records, finished)
                    async with asyncio.TaskGroup() as group:
                        for problem, sample in todo:
                            waiting = done.get((problem.id, sample))
                            waiting = waiting if waiting is not None and waiting.status == "suspended" else None
                            group.create_task(
                                attempts.attempt(problem, sample, waiting), name=f"bench:{problem.id}#{sample}"
                            )
        finally:
            judge.close()
    report = write_report(config.out)
    final = records.load()
    wanted = {(p.id, k) for p in loaded.problems for k in range(config.samples)}
    attempted = [r for key, r in final.items() if key in wanted or r.status == "load_error"]
    return BenchResult(
        out=config.out,
        ran=len(todo),
        skipped=skipped,
        reused_errors=sum(1 for key in skip if key in wanted and done[key].status == "error"),
        failed=sum(1 for r in attempted if r.status in ("error", "load_error")),
        attempts=len(attempted),
        report=report,
    )
