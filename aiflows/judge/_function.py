"""Function-level problems (HumanEval): run the program, its tests and `check(entry_point)`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiflows.judge._errors import PackageError
from aiflows.judge._executor import Executor
from aiflows.judge._models import Judgement, Limits, TestResult, Verdict
from aiflows.judge._programs import KeyedLocks, build_program
from aiflows.judge._testrun import ScratchPool, early_failure, read_tail
from aiflows.problems.model import Problem

__all__ = ["FunctionJudge"]


@dataclass(frozen=True)
class FunctionJudge:
    """Judges function-level problems with the parts of a `Judge` it is handed (so it never sees the Judge)."""

    executor: Executor
    programs_dir: Path  # where built programs live, shared with the Judge's other runs
    build_locks: KeyedLocks
    scratch: ScratchPool
    fresh_python: bool

    def judge(
        self, problem: Problem, code: str | Mapping[str, str], lang: str, limits: Limits, *, samples_only: bool
    ) -> Judgement:
        """AC when the program plus `test_code` plus `check(entry_point)` exits cleanly in the sandbox."""
        if lang != "python":
            raise PackageError(problem.id, f"function-level problems are judged in Python, not {lang}")
        if not problem.test_code or not problem.entry_point:
            raise PackageError(problem.id, "a function-level problem needs test_code and entry_point")
        source = code if isinstance(code, str) else "\n\n".join(code.values())
        script = f"{source}\n\n\n{problem.test_code}\n\n\ncheck({problem.entry_point})\n"
        built = build_program(
            script, "python", self.programs_dir, view=self.executor.view, uid=None, locks=self.build_locks
        )
        program = built.program(fresh_python=self.fresh_python)
        with self.scratch.take() as tmp:
            out_path, err_path = tmp / "out", tmp / "err"
            with (
                open(os.devnull, "rb") as fin,
                open(out_path, "wb") as fout,
                open(err_path, "wb") as ferr,
                self.executor.slots,
            ):
                run = self.executor.submit(
                    program, limits, (fin.fileno(), fout.fileno(), ferr.fileno())
                ).future.result()
            stderr = read_tail(err_path, 2500)
            failed = early_failure(run, limits, out_path.stat().st_size, problem.output_limit_mb << 20, stderr)
        if failed is None:
            verdict, message = Verdict.AC, ""
        elif failed[0] == Verdict.RTE and "AssertionError" in stderr:
            verdict, message = Verdict.WA, "a test assertion failed"
        else:
            verdict, message = failed
        result = TestResult(
            name="tests",
            is_sample=False,
            verdict=verdict,
            message=message,
            time_s=round(run.cpu_s, 4),
            wall_s=round(run.wall_s, 4),
            memory_kb=run.max_rss_kb,
            exit_code=run.exit_code,
            signal=run.signal,
            stderr_tail=stderr if verdict != Verdict.AC else "",
        )
        return Judgement(
            problem_id=problem.id,
            language=lang,
            verdict=verdict,
            tests=[result],
            total_tests=1,
            samples_only=samples_only,
        )
