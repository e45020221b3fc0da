"""The transformers backend on a tiny Qwen2 built here and loaded by path, on CPU, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows import FlowError
from aiflows.llm import ChatFlow, ChatMessage, ModelUnavailableError, Request, TransformersBackend
from aiflows.llm.backends import transformers_backend as tb

pytest.importorskip("torch")
pytest.importorskip("transformers")


def ask(text: str = "hello world", **options: object) -> Request:
    return Request(model="local:tiny", messages=(ChatMessage(role="user", content=text),), **options)


async def test_chat_flow_generates_with_a_local_checkpoint(tiny_model_dir: Path) -> None:
    chat = ChatFlow(config={"model": f"local:{tiny_model_dir}", "max_new_tokens": 6, "temperature": 0})
    out = await chat.run({"query": "hello world"})
    again = await chat.run({"query": "hello world"}, session="other")
    assert isinstance(out["content"], str)
    assert out["content"] == again["content"]  # greedy decoding is deterministic
    usage = out["usage"]
    assert usage["prompt_tokens"] > 0 and 0 < usage["completion_tokens"] <= 6
    assert usage["cost_usd"] == 0


async def test_streams_tokens_as_events(tiny_model_dir: Path) -> None:
    chat = ChatFlow(config={"model": f"local:{tiny_model_dir}", "max_new_tokens": 6, "stream": True})
    events: list[dict] = []
    out = await chat.run({"query": "the quick brown fox"}, on_event=lambda ev: events.append(ev.data))
    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert tokens, "expected streamed tokens"
    assert "".join(tokens) == out["content"]
    backend = TransformersBackend(str(tiny_model_dir), local=True, max_new_tokens=6)
    plain = await backend.complete(ask("the quick brown fox"))
    assert plain.content == out["content"]  # streaming and not streaming agree under greedy decoding


async def test_n_samples_with_a_seed_are_reproducible(tiny_model_dir: Path) -> None:
    backend = TransformersBackend(str(tiny_model_dir), local=True, max_new_tokens=5)
    first = await backend.complete(ask(n=3, temperature=1.0, seed=11))
    second = await backend.complete(ask(n=3, temperature=1.0, seed=11))
    assert len(first.completions) == 3
    assert first.completions == second.completions


async def test_model_is_loaded_once_per_process(tiny_model_dir: Path) -> None:
    a = TransformersBackend(str(tiny_model_dir), local=True, device="cpu")
    b = TransformersBackend(str(tiny_model_dir), local=True, device="cpu")
    await a.load()
    assert (str(tiny_model_dir), "cpu", "float32") in tb._MODELS
    assert a._load() is b._load()


async def test_context_too_long_is_typed(tiny_model_dir: Path) -> None:
    from aiflows.llm import ContextLengthError

    backend = TransformersBackend(str(tiny_model_dir), local=True)
    with pytest.raises(ContextLengthError, match="256"):
        await backend.complete(ask("hello world " * 200))


async def test_default_model_not_cached_and_offline_says_how_to_provide_it(tmp_path: Path) -> None:
    # HF_HUB_OFFLINE=1 (set for every test); an empty cache folder holds nothing.
    backend = TransformersBackend(cache_dir=str(tmp_path / "empty-cache"))
    with pytest.raises(ModelUnavailableError) as info:
        await backend.complete(ask())
    message = str(info.value)
    assert "Qwen/Qwen2.5-Coder-0.5B-Instruct" in message
    assert "offline" in message
    assert "AIFLOWS_MODEL=local:" in message
    assert "huggingface-cli download" in message
    assert "openai/" in message


async def test_a_flow_with_no_model_uses_the_default_and_fails_clearly(tmp_path: Path) -> None:
    chat = ChatFlow(name="coder", config={"hf_cache_dir": str(tmp_path / "empty-cache")})
    assert chat.model == "hf:Qwen/Qwen2.5-Coder-0.5B-Instruct"
    with pytest.raises(FlowError) as info:
        await chat.run({"query": "write code"})
    assert info.value.type == "ModelUnavailableError"
    assert "coder" in info.value.message and "Qwen/Qwen2.5-Coder-0.5B-Instruct" in info.value.message


async def test_missing_local_folder_is_a_typed_flow_error(tmp_path: Path) -> None:
    chat = ChatFlow(name="local-coder", config={"model": f"local:{tmp_path / 'nothing-here'}"})
    with pytest.raises(FlowError) as info:
        await chat.run({"query": "hi"})
    assert info.value.type == "ModelUnavailableError"
    assert "local-coder" in info.value.message and "nothing-here" in info.value.message
