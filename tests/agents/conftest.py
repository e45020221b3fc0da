"""Fixtures for agent tests: a loopback OpenAI-protocol server, a tiny transformers checkpoint built
here, a small knowledge base corpus, and an environment that cannot reach a paid API."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aiflows.llm.testing import LoopbackLLMServer

SUPPORT = Path(__file__).resolve().parent / "support"
sys.path.insert(0, str(SUPPORT))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AIFLOWS_MODEL", "AIFLOWS_API_BASE", "OPENAI_API_KEY", "BRAVE_API_KEY", "AIFLOWS_AGENT_CORPUS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIFLOWS_HOME", str(tmp_path / "aiflows_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def llm_server() -> Iterator[LoopbackLLMServer]:
    with LoopbackLLMServer() as server:
        yield server


@pytest.fixture
def module_config(llm_server: LoopbackLLMServer) -> Callable[..., dict[str, object]]:
    """The ChatConfig of an LLM module talking to the loopback server."""

    def make(**extra: object) -> dict[str, object]:
        return {
            "model": "openai/scripted",
            "api_base": llm_server.url,
            "api_key_env": ["AGENT_TEST_KEY"],
            "retry_base_s": 0.01,
            "retry_max_s": 0.05,
            "temperature": 0,
            **extra,
        }

    os.environ["AGENT_TEST_KEY"] = "sk-test"
    return make


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The kbqa corpus (seed 0) as a JSON-lines file."""
    from agents.eval import generate_kb

    path = tmp_path / "corpus.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in generate_kb(0).corpus()))
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(make_tiny_qwen: Callable[..., Path]) -> Path:
    """A 2-layer Qwen2 (hidden 64, random weights) and a BPE tokenizer trained on planner words."""
    corpus = [
        "Sub-Goal: find the population",
        "Tool Name: retrieve calculator",
        "query memory tools turn",
        "STOP CONTINUE",
    ]
    return make_tiny_qwen("tiny-planner", corpus, vocab_size=400, hidden=64, layers=2, max_positions=4096, seed=0)
