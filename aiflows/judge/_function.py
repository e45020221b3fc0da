"""Function-level problems (HumanEval): run the program, its tests and `check(entry_point)`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiflows.judge._errors import PackageError
from aiflows.judge._models import Judgement, TestResult, Verdict
from aiflows.judge._programs import build_program
from aiflows.judge._testrun import _failure, _tail
from aiflows.problems.model import Problem

if TYPE_CHECKING:
    from aiflows.judge._judge import Judge

__all__ = ["judge_function"]


def judge_function(
    judge: Judge, problem: Problem, code: str | Mapping[str, str], lang: str, samples_only: bool
) -> Judgement:
    """AC when the program plus `test_code` plus `check(entry_point)` exits cleanly in the sandbox."""
    if lang != "python":
        raise PackageError(problem.id, f"function-level problems are judged in Python, not {lang}")
    if not problem.test_code or not problem.entry_point:
        raise PackageError(problem.id, "a function-level problem needs test_code and entry_point")
    source = code if isinstance(code, str) else "\n\n".join(code.values())
    script = f"{source}\n\n\n{problem.test_code}\n\n\ncheck({problem.entry_point})\n"
    built = build_program(
        script, "python", judge.work_dir / "programs", view=judge.executor.view, uid=None, locks=judge.build_locks
    )
    program = built.program(fresh_python=judge.config.fresh_python)
    limits = judge.limits_for(problem)
    with judge.scratch.take() as tmp:
        out_path, err_path = tmp / "out", tmp / "err"
        with (
            open(os.devnull, "rb") as fin,
            open(out_path, "wb") as fout,
            open(err_path, "wb") as ferr,
            judge.executor.slots,
        ):
            run = judge.executor.submit(program, limits, (fin.fileno(), fout.fileno(), ferr.fileno())).future.result()
        stderr = _tail(err_path, 2500)
        failed = _failure(run, limits, out_path.stat().st_size, problem.output_limit_mb << 20, stderr)
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
        problem_id=problem.id, language=lang, verdict=verdict, tests=[result], total_tests=1, samples_only=samples_only
    )
