"""One attempt at one problem: run the cc flow (or resume a run that waited), then score its code.

The flow saw only the public samples; here the judge runs every test. Whatever goes wrong
(the flow fails, the judge cannot judge, the attempt takes too long) becomes the record's error,
so the other attempts of the benchmark go on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiflows.messages import new_id
from aiflows.problems import Problem

from .config import BenchConfig
from .records import ProblemRecord, RecordError, RecordFile, problem_digest

__all__ = ["Attempts"]


def _base_record(config: BenchConfig, problem: Problem, sample: int, model: str, session: str) -> dict[str, Any]:
    meta = problem.metadata
    difficulty = meta.get("difficulty")
    buckets = meta.get("buckets") or []
    return {
        "problem_id": problem.id,
        "sample": sample,
        "flow": config.flow,
        "model": model,
        "session": session,
        "difficulty": str(difficulty) if difficulty is not None else None,
        "buckets": [str(b) for b in buckets] if isinstance(buckets, list) else [],
        "source": problem.source,
        "problem_digest": problem_digest(problem),
    }


def _error_of(exc: BaseException) -> RecordError:
    file = getattr(exc, "file", None) or getattr(exc, "path", None)
    return RecordError(type=type(exc).__name__, message=str(exc), file=str(file) if file else None)


class Attempts:
    """Runs and scores attempts; shared by the tasks of one benchmark run."""

    def __init__(
        self,
        config: BenchConfig,
        runtime: Any,
        judge: Any,
        flows: list[Any],
        records: RecordFile,
        on_record: Callable[[ProblemRecord], None],
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.judge = judge
        self.flows = flows
        self.records = records
        self.on_record = on_record
        self.limit = asyncio.Semaphore(config.jobs)

    async def attempt(self, problem: Problem, sample: int, waiting: ProblemRecord | None) -> None:
        async with self.limit:
            record = await self._attempt(problem, sample, waiting)
        self.records.append(record)
        self.on_record(record)

    async def _attempt(self, problem: Problem, sample: int, waiting: ProblemRecord | None) -> ProblemRecord:
        """Run (or, for a run that waited for a person, resume) one attempt and score it."""
        from aiflows.llm import UsageMeter

        flow = self.flows[sample]
        coder = flow.subflows.get("coder")
        model = getattr(coder, "model", "") or (self.config.model or "")
        fresh = f"{problem.id}#{sample}#{new_id()[:8]}"  # a new session: a new conversation for every chat
        session = waiting.session if waiting is not None and waiting.session else fresh
        base = _base_record(self.config, problem, sample, model, session)
        started = time.monotonic()
        meter = UsageMeter()
        fields: dict[str, Any] = {}
        try:
            async with asyncio.timeout(self.config.attempt_timeout_s):
                if waiting is not None and waiting.run_id:
                    await self.runtime.host(flow)
                    result = await self.runtime.resume(waiting.run_id, on_event=meter)
                else:
                    result = await self.runtime.run(
                        flow, {"problem": problem.model_dump(mode="json")}, session=session, on_event=meter
                    )
            fields["run_id"] = result.run_id
            if result.status == "suspended":
                fields.update(
                    status="suspended",
                    error=RecordError(
                        type="Suspended",
                        message=f"run {result.run_id} waits for a person (answer with `aiflows human`); "
                        "rerun the benchmark to resume it",
                        address=result.error.address if result.error else None,
                    ),
                )
            elif result.error is not None:
                error = result.error
                fields.update(
                    status="error", error=RecordError(type=error.type, message=error.message, address=error.address)
                )
            else:
                fields.update(await self._score(problem, result.output or {}))
        except TimeoutError:
            fields.update(
                status="error",
                error=RecordError(
                    type="Timeout",
                    message=f"problem '{problem.id}': no result within {self.config.attempt_timeout_s:g} s",
                ),
            )
        except Exception as exc:  # noqa: BLE001 - one problem's failure is recorded, the run goes on
            fields.update(status="error", error=_error_of(exc))
        usage = meter.total()
        if waiting is not None:  # the calls before the wait were counted in the waiting record
            usage = usage.model_copy(
                update={
                    name: getattr(usage, name) + getattr(waiting, name)
                    for name in (
                        "prompt_tokens",
                        "completion_tokens",
                        "total_tokens",
                        "cost_usd",
                        "calls",
                        "cached_calls",
                    )
                }
            )
        return ProblemRecord(
            **base,
            **fields,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            cost_usd=usage.cost_usd,
            calls=usage.calls,
            cached_calls=usage.cached_calls,
            seconds=round(time.monotonic() - started, 3),
            finished_at=time.time(),
        )

    async def _score(self, problem: Problem, output: dict[str, Any]) -> dict[str, Any]:
        code = output.get("code")
        fields: dict[str, Any] = {
            "status": "done",
            "code": code,
            "language": output.get("language", "python"),
            "rounds": int(output.get("rounds") or 0),
            "sample_verdict": output.get("sample_verdict"),
            "failure": output.get("failure"),
        }
        if code is None:
            return {**fields, "verdict": "NO_CODE", "accepted": False}
        judgement = await self.judge.judge_async(problem, code, fields["language"])
        return {
            **fields,
            "verdict": str(judgement.verdict),
            "accepted": judgement.accepted,
            "tests_passed": judgement.passed,
            "tests_total": judgement.total_tests,
        }
