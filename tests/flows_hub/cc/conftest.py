"""Fixtures for the cc flows: the loopback OpenAI-protocol server and a scripted model that
answers by role (coder, planner, critics) with the problem's real reference solution."""

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


@pytest.fixture
def llm() -> Iterator[LoopbackLLMServer]:
    with LoopbackLLMServer() as server:
        yield server


@pytest.fixture(scope="session")
def samples() -> dict[str, Problem]:
    return load_samples().by_id()


def fenced(code: str) -> str:
    return f"Here is my solution.\n\n```python\n{code}```\n"


def submission(problem: Problem, verdict: str) -> str:
    assert problem.root is not None
    return min((problem.root / "submissions" / verdict).glob("*.py")).read_text()


def role(request: SeenRequest) -> str:
    system = next((m["content"] for m in request.messages if m["role"] == "system"), "")
    if "reviewer of competitive-programming solutions" in system:
        return "code_critic"
    if "reviewer of algorithm designs" in system:
        return "plan_critic"
    if "designs solutions" in system:
        return "planner"
    return "coder"


class ScriptedModel:
    """Answers each role; the coder's answers come from `coder(request, turn)`; records the calls by role."""

    def __init__(
        self,
        coder: Callable[[SeenRequest, int], str],
        critic: str = "The loop misses the last element.",
        plan: str = "Read all numbers and add them up.",
    ) -> None:
        self.coder = coder
        self.critic = critic
        self.plan = plan
        self.calls: dict[str, list[SeenRequest]] = {}

    def __call__(self, request: SeenRequest) -> Reply | str:
        who = role(request)
        turns = self.calls.setdefault(who, [])
        turns.append(request)
        if who == "coder":
            return self.coder(request, len(turns))
        if who == "planner":
            return self.plan
        return self.critic


def chat_config(server: LoopbackLLMServer, **extra: object) -> dict[str, object]:
    return {"model": "openai/test-model", "api_base": server.url, "chat": {"max_retries": 0}, **extra}


FOLDER = Path(__file__).resolve().parents[3] / "flows_hub" / "cc"


class Kit:
    """The helpers above, handed to tests as one fixture (test modules do not import conftest)."""

    fenced = staticmethod(fenced)
    submission = staticmethod(submission)
    role = staticmethod(role)
    chat_config = staticmethod(chat_config)
    ScriptedModel = ScriptedModel
    folder = FOLDER


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
