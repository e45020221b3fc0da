"""Fixtures for the benchmark: a loopback OpenAI-protocol server scripted to solve the sample
problems (a wrong program first, the reference solution after the judge's feedback), and a tiny
random transformers checkpoint built here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aiflows.llm.testing import LoopbackLLMServer, Reply, SeenRequest
from aiflows.problems import Problem, load_samples


@pytest.fixture(autouse=True)
def _no_real_models(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AIFLOWS_MODEL", "AIFLOWS_API_BASE", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIFLOWS_OPENAI_API_KEYS", "sk-test")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _code(problem: Problem, verdict: str) -> str:
    assert problem.root is not None
    return min((problem.root / "submissions" / verdict).glob("*.py")).read_text()


class SolvingModel:
    """A coder that fails first and fixes its program once it is told what failed.

    `never` names problems it never answers with code; `delay_s` slows the answers to the
    problems it names (to catch a run in flight).
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.by_title = {p.title: p for p in problems}
        self.never: set[str] = set()
        self.delay: dict[str, float] = {}
        self.seen: list[str] = []

    def problem_of(self, request: SeenRequest) -> Problem:
        first_user = next(m["content"] for m in request.messages if m["role"] == "user")
        return next(p for title, p in self.by_title.items() if f"# Problem: {title}" in first_user)

    def __call__(self, request: SeenRequest) -> Reply:
        problem = self.problem_of(request)
        self.seen.append(problem.id)
        delay = self.delay.get(problem.id, 0.0)
        if problem.id in self.never:
            return Reply(content="I am not sure how to solve this.", delay_s=delay)
        told = "Result of running your code" in request.messages[-1]["content"]
        code = _code(problem, "accepted" if told else "wrong_answer")
        return Reply(content=f"```python\n{code}```", delay_s=delay)


@pytest.fixture(scope="session")
def sample_problems() -> list[Problem]:
    return list(load_samples())


@pytest.fixture
def solving(sample_problems: list[Problem]) -> Iterator[tuple[LoopbackLLMServer, SolvingModel]]:
    model = SolvingModel(sample_problems)
    with LoopbackLLMServer(responder=model, models=["test-model"]) as server:
        yield server, model


@pytest.fixture(scope="session")
def tiny_model(make_tiny_qwen: Callable[..., Path]) -> Path:
    """A one-layer Qwen2 with random weights and a byte-level BPE tokenizer trained on a few lines."""
    corpus = ["```python\nprint(sum(map(int, input().split())))\n```", "def main():\n    return 0", "read the input"]
    return make_tiny_qwen("tiny-coder", corpus, vocab_size=320, hidden=32, layers=1, max_positions=4096, seed=1)
