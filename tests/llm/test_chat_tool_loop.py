"""examples/chat_tool_loop.py against the loopback server: in process and as a script."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from aiflows.llm.testing import LoopbackLLMServer, SeenRequest

pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chat_tool_loop.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_chat_tool_loop", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def calculating_model(request: SeenRequest) -> str:
    """Asks for the calculation first, answers once the calculator replied."""
    last = request.messages[-1]["content"]
    if last.startswith("Calculator:"):
        return "ANSWER: " + last.rsplit("=", 1)[1].strip()
    return "I will compute it.\nCALC: 17 * 23 + 4"


def test_the_loop_calls_the_tool_and_stops_at_the_answer(
    llm_server: LoopbackLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIFLOWS_OPENAI_API_KEYS", "sk-loop")
    llm_server.responder = calculating_model
    result = load().main("What is 17 * 23 + 4?", model="openai/gpt-4o-mini", api_base=llm_server.url)
    assert result["done"] is True and result["answer"] == "395"
    assert len(llm_server.requests) == 2
    second = llm_server.requests[1].messages
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[-1]["content"] == "Calculator: 17 * 23 + 4 = 395"


def test_the_loop_is_bounded(llm_server: LoopbackLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIFLOWS_OPENAI_API_KEYS", "sk-loop")
    llm_server.responder = lambda request: "CALC: 1 + 1"
    module = load()
    out = module.build("openai/gpt-4o-mini", llm_server.url, max_rounds=3).run_sync({"question": "loop forever"})
    assert out["done"] is False
    assert len(llm_server.requests) == 3


def test_calculator_refuses_anything_but_arithmetic() -> None:
    module = load()
    assert module.evaluate("(2 + 3) * 4 ** 2") == 80
    for bad in ("__import__('os')", "open('x')", "a + 1", "2 ** 1000"):
        with pytest.raises(ValueError):
            module.evaluate(bad)


def test_runs_as_a_script_with_a_model_from_the_environment(llm_server: LoopbackLLMServer, tmp_path: Path) -> None:
    llm_server.responder = calculating_model
    env = {
        **os.environ,
        "AIFLOWS_MODEL": "openai/gpt-4o-mini",
        "AIFLOWS_API_BASE": llm_server.url,
        "OPENAI_API_KEY": "sk-script",
        "PYTHONPATH": str(EXAMPLE.parents[1]),
    }
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "What is 17 * 23 + 4?"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "answer: 395" in done.stdout
    assert {r.api_key for r in llm_server.requests} == {"sk-script"}
