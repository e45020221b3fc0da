"""Tools with a model inside: `generalist` answers a sub-question; `python_coder` writes Python for a
sub-goal and runs it in the judge's sandbox (bubblewrap, CPU/wall/memory limits), never in this process.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from aiflows.context import Context
from aiflows.llm import Backend, ChatConfig, ChatMessage, Request
from aiflows.llm.factory import build_backend
from aiflows.llm.models import choose_model
from aiflows.llm.usage import USAGE_EVENT, usage_event

from .base import ToolFlow, ToolResult

__all__ = ["GeneralistTool", "PythonCoderTool", "extract_code"]

_CODE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def extract_code(text: str) -> str:
    """The last fenced code block of `text`, or the text itself."""
    blocks = _CODE.findall(text)
    return (blocks[-1] if blocks else text).strip()


class _ModelTool(ToolFlow):
    Config: ClassVar[type[BaseModel] | None] = ChatConfig
    config: ChatConfig

    def __init__(self, *, backend: Backend | None = None, env: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._backend = backend
        self._env = dict(os.environ if env is None else env)

    def _model_backend(self) -> Backend:
        if self._backend is None:
            choice = choose_model(self.config.model, self.config.api_base, self._env)
            self._backend = build_backend(choice, self.config, self._env)
        return self._backend

    async def ask(self, ctx: Context, system: str, prompt: str) -> str:
        backend = self._backend if self._backend is not None else await asyncio.to_thread(self._model_backend)
        cfg = self.config
        model = str(getattr(backend, "model", cfg.model or ""))
        request = Request(
            model=model,
            messages=(ChatMessage(role="system", content=system), ChatMessage(role="user", content=prompt)),
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
            seed=cfg.seed,
        )
        done = await backend.complete(request)
        usage = done.usage if done.usage.calls else done.usage.model_copy(update={"calls": 1})
        ctx.emit(USAGE_EVENT, usage_event(flow=ctx.address, model=model, usage=usage, cached=False, attempt=0))
        return done.content


class GeneralistTool(_ModelTool):
    """Answers a self-contained question with a chat model."""

    class Input(BaseModel):
        query: str = Field(description="a self-contained question")

    description = "A general chat model that answers a self-contained question from its own knowledge."
    output = "the model's answer as text"
    limitations = "may be wrong on facts and arithmetic; has no access to the corpus or the web"
    examples = [{"command": {"query": "What is the capital of France?"}, "result": "Paris"}]

    def __init__(self, *, name: str = "generalist", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    async def run_tool(self, ctx: Context, data: Input) -> ToolResult:
        answer = await self.ask(ctx, "Answer the question concisely and accurately.", data.query)
        return ToolResult(result=answer.strip())


class PythonCoderTool(_ModelTool):
    """Writes a Python program for a sub-goal and runs it in a sandbox; the result is its output or error."""

    class Input(BaseModel):
        query: str = Field(description="what the program must compute or print")
        code: str | None = Field(default=None, description="run this program instead of writing one")

    description = "Writes and runs a short Python 3 program for a computation; returns what it prints."
    output = "the program's standard output, or its error"
    limitations = "no network, no files outside its scratch space, 5 s of CPU and 512 MB; print the answer"
    examples = [{"command": {"query": "print the 20th Fibonacci number"}, "result": "6765"}]

    def __init__(
        self,
        *,
        name: str = "python_coder",
        cpu_s: float = 5.0,
        memory_mb: int = 512,
        sandbox: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, **kwargs)
        self.cpu_s = cpu_s
        self.memory_mb = memory_mb
        self.sandbox = sandbox

    async def run_tool(self, ctx: Context, data: Input) -> ToolResult:
        code = data.code
        if code is None:
            text = await self.ask(
                ctx,
                "Write one complete Python 3 program in a ```python block. It must print its answer.",
                data.query,
            )
            code = extract_code(text)
        output, verdict = await asyncio.to_thread(self._run, code)
        return ToolResult.model_validate({"result": output, "code": code, "verdict": verdict})

    def _run(self, code: str) -> tuple[str, str]:
        from aiflows.judge import Judge, JudgeConfig
        from aiflows.problems import Problem, TestCase

        with tempfile.TemporaryDirectory(prefix="agent-python-") as tmp:
            folder = Path(tmp)
            (folder / "1.in").write_text("")
            (folder / "1.ans").write_text("")
            case = TestCase(name="run/1", input_path=folder / "1.in", answer_path=folder / "1.ans", is_sample=True)
            problem = Problem(
                id="python_coder",
                title="python_coder",
                tests=[case],
                time_limit=self.cpu_s,
                memory_limit_mb=self.memory_mb,
            )
            config = JudgeConfig(jobs=1, sandbox=self.sandbox)  # type: ignore[arg-type]
            with Judge(config) as judge:
                judgement = judge.judge(problem, code, "python")
        if judgement.compile_output:
            return f"Error: {judgement.compile_output.strip()}", judgement.verdict.value
        if not judgement.tests:
            return "Error: the program did not run", judgement.verdict.value
        test = judgement.tests[0]
        verdict = test.verdict.value
        if verdict in ("AC", "WA"):
            return (test.got_excerpt.strip() or "(no output)"), verdict
        detail = test.stderr_tail.strip() or test.message
        return f"Error ({verdict}): {detail}", verdict
