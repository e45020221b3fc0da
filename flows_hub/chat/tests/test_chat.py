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


def _chat(server: LoopbackLLMServer):
    return load_folder(FOLDER, config={"model": "openai/test", "api_base": server.url, "max_retries": 0})


def test_first_turn_sends_the_folder_system_prompt(server: LoopbackLLMServer) -> None:
    server.script("Paris.")
    out = _chat(server).run_sync({"query": "Capital of France?", "persona": "a geographer"})
    assert out["content"] == "Paris."
    messages = server.requests[-1].messages
    assert messages[0]["role"] == "system" and "acting as a geographer" in messages[0]["content"]
    assert messages[-1] == {"role": "user", "content": "Capital of France?"}


def test_a_session_keeps_the_conversation(server: LoopbackLLMServer) -> None:
    chat = _chat(server)
    chat.run_sync({"query": "My name is Ada."}, session="s")
    chat.run_sync({"query": "What is my name?"}, session="s")
    contents = [m["content"] for m in server.requests[-1].messages]
    assert "My name is Ada." in contents and contents[-1] == "What is my name?"
