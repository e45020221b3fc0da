from pathlib import Path

import pytest

from aiflows.hub import load_folder
from aiflows.llm.testing import LoopbackLLMServer

FOLDER = Path(__file__).resolve().parents[1]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIFLOWS_OPENAI_API_KEYS", "test-key")
    monkeypatch.delenv("AIFLOWS_MODEL", raising=False)
    with LoopbackLLMServer() as srv:
        yield srv


def test_request_carries_the_text_and_the_word_limit(server: LoopbackLLMServer) -> None:
    server.script("Short.")
    flow = load_folder(FOLDER, config={"model": "openai/test", "api_base": server.url, "max_retries": 0})
    out = flow.run_sync({"text": "A long story about flows.", "max_words": 12})
    assert out["content"] == "Short."
    request = server.requests[-1]
    assert "at most 12 words" in request.messages[-1]["content"]
    assert "A long story about flows." in request.messages[-1]["content"]
    assert request.body.get("temperature") == 0
