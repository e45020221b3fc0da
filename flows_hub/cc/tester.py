"""The code-testing flow: run a program on the problem's public samples and say what happened.

Only the samples are used here; the hidden tests are for scoring, outside the flow. A missing
program (the model gave no code block) is answered in words too, so the loop can go on.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aiflows import AtomicFlow, Context
from aiflows.problems.model import Problem

from .code_blocks import NO_CODE_FEEDBACK

__all__ = ["NO_CODE", "CodeTesting"]

NO_CODE = "NO_CODE"  # the verdict when there was no program to run


class CodeTesting(AtomicFlow):
    """Judge `code` on the samples of `problem`; output the verdict and feedback in words.

    The flow owns a warm sandboxed judge, started on first use and stopped with the flow
    (`close()`, or when the flow object is collected).
    """

    class Input(BaseModel):
        problem: Problem
        code: str | None = None
        language: str = "python"

    class Output(BaseModel):
        verdict: str  # AC, WA, TLE, MLE, RTE, OLE, CE, JE, or NO_CODE
        accepted: bool
        passed: int = 0
        total: int = 0
        feedback: str

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        jobs: int = Field(default=2, ge=1)  # sample runs at once
        sandbox: Literal["auto", "bwrap", "none"] = "auto"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._judge: Any = None
        self._lock = threading.Lock()

    def judge(self) -> Any:
        """The flow's judge, started on first use."""
        with self._lock:
            if self._judge is None:
                from aiflows.judge import Judge, JudgeConfig

                self._judge = Judge(JudgeConfig(jobs=self.config.jobs, sandbox=self.config.sandbox))
                weakref.finalize(self, self._judge.close)
            return self._judge

    def close(self) -> None:
        with self._lock:
            if self._judge is not None:
                self._judge.close()
                self._judge = None

    async def handle(self, ctx: Context, data: BaseModel) -> dict[str, Any]:
        assert isinstance(data, CodeTesting.Input)
        if data.code is None or not data.code.strip():
            return {"verdict": NO_CODE, "accepted": False, "feedback": NO_CODE_FEEDBACK}
        judgement = await self.judge().judge_async(data.problem, data.code, data.language, samples_only=True)
        return {
            "verdict": str(judgement.verdict),
            "accepted": judgement.accepted,
            "passed": judgement.passed,
            "total": judgement.total_tests,
            "feedback": judgement.to_prompt(),
        }
