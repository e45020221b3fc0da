"""The model-string rule, the precedence of AIFLOWS_MODEL, and where keys come from."""

from __future__ import annotations

import pytest

from aiflows.llm import DEFAULT_MODEL, MissingKeyError, UnknownModelError, choose_model, parse_model
from aiflows.llm.models import provider_keys


def test_parse_rule() -> None:
    assert parse_model("hf:org/model").model_dump() == {"kind": "transformers", "name": "org/model", "local": False}
    assert parse_model("hf:").name == "Qwen/Qwen2.5-Coder-0.5B-Instruct"
    assert parse_model("local:/models/x").model_dump() == {"kind": "transformers", "name": "/models/x", "local": True}
    assert parse_model("openai/gpt-4o-mini").kind == "litellm"
    assert parse_model("ollama/llama3").kind == "litellm"
    with pytest.raises(UnknownModelError):
        parse_model("local:")
    with pytest.raises(UnknownModelError):
        parse_model("  ")


def test_precedence_env_then_config_then_default() -> None:
    env = {"AIFLOWS_MODEL": "openai/served", "AIFLOWS_API_BASE": "http://127.0.0.1:9/v1"}
    chosen = choose_model("anthropic/claude", "http://config", env)
    assert (chosen.model, chosen.source, chosen.api_base) == ("openai/served", "env", "http://127.0.0.1:9/v1")
    chosen = choose_model("anthropic/claude", "http://config", {})
    assert (chosen.model, chosen.source, chosen.api_base) == ("anthropic/claude", "config", "http://config")
    chosen = choose_model(None, None, {})
    assert (chosen.model, chosen.source) == (DEFAULT_MODEL, "default")
    assert DEFAULT_MODEL == "hf:Qwen/Qwen2.5-Coder-0.5B-Instruct"


def test_keys_from_named_variables_or_provider_pool() -> None:
    env = {"A": "k1, k2", "B": "k3", "AIFLOWS_OPENAI_API_KEYS": "p1,p2"}
    assert provider_keys("openai/gpt-4o", ["A", "B"], env) == ["k1", "k2", "k3"]
    assert provider_keys("openai/gpt-4o", [], env) == ["p1", "p2"]
    assert provider_keys("anthropic/claude", [], env) == []
    with pytest.raises(MissingKeyError, match="MISSING"):
        provider_keys("openai/gpt-4o", ["MISSING"], env)


async def test_aiflows_model_retargets_a_chat_flow(llm_server, monkeypatch: pytest.MonkeyPatch) -> None:
    from aiflows.llm import ChatFlow

    monkeypatch.setenv("AIFLOWS_MODEL", "openai/from-env")
    monkeypatch.setenv("AIFLOWS_API_BASE", llm_server.url)
    monkeypatch.setenv("AIFLOWS_OPENAI_API_KEYS", "sk-env")
    chat = ChatFlow(config={"model": "anthropic/claude-3-5-haiku-latest"})
    assert chat.model == "openai/from-env"
    out = await chat.run({"query": "hello"})
    assert out["content"] == "echo: hello"
    assert llm_server.requests[0].body["model"] == "from-env"
    assert llm_server.requests[0].api_key == "sk-env"


async def test_unknown_model_reaches_the_caller_typed(llm_server) -> None:
    from aiflows import FlowError
    from aiflows.llm import ChatFlow

    chat = ChatFlow(name="writer", config={"model": "nosuchprovider/model-x"})
    with pytest.raises(FlowError) as info:
        await chat.run({"query": "hi"})
    assert info.value.type == "UnknownModelError"
    assert "writer" in info.value.message and "nosuchprovider/model-x" in info.value.message
