"""`preflight` against a real OpenAI-protocol server on loopback: model list, keys, errors, window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiflows.llm import (
    ChatConfig,
    ContextLengthError,
    MissingKeyError,
    ModelUnavailableError,
    ProviderError,
    UnknownModelError,
)
from aiflows.llm.models import ModelChoice
from aiflows.llm.preflight import preflight
from aiflows.llm.testing import LoopbackLLMServer, Reply


def _at(server: LoopbackLLMServer, model: str) -> ModelChoice:
    return ModelChoice(model=model, source="config", api_base=server.url)


def test_the_model_list_settles_it_without_a_completion() -> None:
    with LoopbackLLMServer(models=["qwen", "llama"], context_window=8192) as server:
        report = preflight(_at(server, "openai/qwen"), prompts=["short prompt"])
        assert server.requests == []  # no completion was asked for
    assert (report.how, report.context_window, report.served) == ("model list", 8192, ["qwen", "llama"])
    assert report.prompt_tokens == 3


def test_a_model_not_served_names_what_is() -> None:
    with LoopbackLLMServer(models=["qwen"]) as server, pytest.raises(UnknownModelError) as info:
        preflight(_at(server, "openai/qwne"))
    assert "does not serve 'qwne'; it serves: qwen (e.g. --model openai/qwen)" in str(info.value)
    assert "openai/qwne" in str(info.value)


def test_a_refused_key_on_the_model_list_is_a_missing_key() -> None:
    with LoopbackLLMServer(api_keys={"sk-right"}) as server:
        with pytest.raises(MissingKeyError, match=r"refused the api key \(HTTP 401\)"):
            preflight(_at(server, "openai/loopback"), env={"AIFLOWS_OPENAI_API_KEYS": "sk-wrong"})
        report = preflight(_at(server, "openai/loopback"), env={"AIFLOWS_OPENAI_API_KEYS": "sk-right"})
    assert report.how == "model list"


def test_without_a_model_list_one_token_is_asked_for() -> None:
    with LoopbackLLMServer(list_models=False) as server:
        report = preflight(_at(server, "openai/gpt-4o-mini"), env={})
        (request,) = server.requests
    assert report.how == "one call" and request.body["max_tokens"] == 1 and request.api_key == "no-key"


def test_a_rate_limited_call_still_counts_as_an_answer() -> None:
    with LoopbackLLMServer(list_models=False) as server:
        server.script(Reply.rate_limit(retry_after=0), Reply.rate_limit(retry_after=0))
        assert preflight(_at(server, "openai/gpt-4o-mini"), env={}).how == "one call"
        assert len(server.requests) == 2  # the first try and one retry, then it stops asking


def test_a_server_error_on_the_one_call_stops_the_job() -> None:
    with LoopbackLLMServer(list_models=False) as server:
        server.script(Reply.server_error(500), Reply.server_error(500))
        with pytest.raises(ProviderError, match="gave up after 2 tries"):
            preflight(_at(server, "openai/gpt-4o-mini"), env={})


def test_an_unreachable_endpoint_is_one_provider_error() -> None:
    with LoopbackLLMServer() as server:
        url = server.url
    with pytest.raises(ProviderError, match="cannot reach .* is the server running"):
        preflight(ModelChoice(model="openai/m", source="config", api_base=url))


def test_the_longest_prompt_must_fit_with_the_answer() -> None:
    with LoopbackLLMServer(models=["m"], context_window=100) as server:
        preflight(_at(server, "openai/m"), ChatConfig(max_tokens=10), prompts=["x" * 200])  # 50 + 10 fit
        with pytest.raises(ContextLengthError) as info:
            preflight(_at(server, "openai/m"), ChatConfig(max_tokens=60), prompts=["x" * 200], what="problem 'p'")
    assert "problem 'p' needs about 50 tokens plus 60 for the answer" in str(info.value)
    assert "context window of 100 tokens" in str(info.value)


def test_a_local_model_is_checked_by_its_config_and_counted_by_its_tokenizer(tiny_model_dir: Path) -> None:
    choice = ModelChoice(model=f"local:{tiny_model_dir}", source="config")
    report = preflight(choice, ChatConfig(max_new_tokens=16), prompts=["hello world"])
    assert report.context_window == 256 and report.prompt_tokens is not None and report.prompt_tokens < 10
    with pytest.raises(ContextLengthError, match="context window of 256 tokens"):
        preflight(choice, ChatConfig(max_new_tokens=16), prompts=["hello world " * 200])


def test_a_local_folder_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 8}))
    with pytest.raises(ModelUnavailableError, match="has no 'model_type'"):
        preflight(ModelChoice(model=f"local:{tmp_path}", source="config"))
    with pytest.raises(ModelUnavailableError, match="no model folder with a config.json"):
        preflight(ModelChoice(model=f"local:{tmp_path / 'nothing'}", source="config"))
