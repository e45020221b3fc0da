"""LiteLLMBackend over real HTTP to the loopback server: retries, key rotation, error mapping."""

from __future__ import annotations

import logging

import pytest

from aiflows.llm import (
    ChatMessage,
    ContextLengthError,
    LiteLLMBackend,
    MissingKeyError,
    ProviderError,
    Request,
    RetryPolicy,
    UnknownModelError,
)
from aiflows.llm.testing import LoopbackLLMServer, Reply

FAST = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.05)


def ask(text: str = "hi", **options: object) -> Request:
    return Request(model="openai/gpt-4o-mini", messages=(ChatMessage(role="user", content=text),), **options)


def backend(server: LoopbackLLMServer, keys: list[str] | None = None, **kwargs: object) -> LiteLLMBackend:
    return LiteLLMBackend(
        "openai/gpt-4o-mini", api_base=server.url, api_keys=keys or ["sk-a"], retry=kwargs.pop("retry", FAST), **kwargs
    )


async def test_answers_and_reports_usage(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(Reply(content="hello", prompt_tokens=3, completion_tokens=1))
    done = await backend(llm_server).complete(ask())
    assert done.content == "hello"
    assert (done.usage.prompt_tokens, done.usage.completion_tokens, done.usage.total_tokens) == (3, 1, 4)
    assert done.usage.cost_usd > 0


@pytest.mark.parametrize("failure", [Reply.rate_limit(), Reply.server_error(500), Reply.server_error(503)])
async def test_transient_failures_are_retried(llm_server: LoopbackLLMServer, failure: Reply) -> None:
    llm_server.script(failure, failure, "finally")
    done = await backend(llm_server).complete(ask())
    assert done.content == "finally"
    assert len(llm_server.requests) == 3


async def test_gives_up_after_the_last_retry(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(*[Reply.server_error(500)] * 4)
    with pytest.raises(ProviderError) as info:
        await backend(llm_server).complete(ask())
    assert len(llm_server.requests) == 4  # first try + 3 retries, then no more
    assert info.value.status == 500
    assert "gave up after 4 tries" in str(info.value)
    assert "openai/gpt-4o-mini" in str(info.value)


async def test_malformed_body_is_a_provider_error(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(*[Reply.malformed()] * 4)
    with pytest.raises(ProviderError):
        await backend(llm_server).complete(ask())


async def test_malformed_body_then_good_answer_recovers(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(Reply.malformed(), "fine")
    assert (await backend(llm_server).complete(ask())).content == "fine"


async def test_context_length_is_typed_and_not_retried(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(Reply.context_length(limit=4096, got=9000))
    with pytest.raises(ContextLengthError) as info:
        await backend(llm_server).complete(ask())
    assert "4096" in str(info.value)
    assert len(llm_server.requests) == 1


async def test_rejected_key_is_typed_and_not_retried(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(Reply.unauthorized())
    with pytest.raises(MissingKeyError):
        await backend(llm_server, keys=["sk-wrong-123"]).complete(ask())
    assert len(llm_server.requests) == 1


async def test_missing_key_names_the_variable() -> None:
    plain = LiteLLMBackend("openai/gpt-4o-mini", retry=FAST)
    with pytest.raises(MissingKeyError) as info:
        await plain.complete(ask())
    assert "OPENAI_API_KEY" in str(info.value)


async def test_an_api_base_needs_no_key(llm_server: LoopbackLLMServer) -> None:
    """vLLM, llama.cpp and Ollama serve without keys: a placeholder goes, and the answer comes back."""
    plain = LiteLLMBackend("openai/qwen", api_base=llm_server.url, retry=FAST)
    assert (await plain.complete(ask())).content == "echo: hi"
    assert llm_server.requests[0].api_key == "no-key" and llm_server.requests[0].body["model"] == "qwen"


def test_unknown_model_string() -> None:
    with pytest.raises(UnknownModelError) as info:
        LiteLLMBackend("nosuchprovider/some-model")
    assert "nosuchprovider/some-model" in str(info.value)


async def test_model_the_provider_does_not_know(llm_server: LoopbackLLMServer) -> None:
    missing = {"message": "The model `x` does not exist", "type": "invalid_request_error"}
    llm_server.script(Reply(status=404, error=missing))
    with pytest.raises(UnknownModelError):
        await backend(llm_server).complete(ask())


async def test_keys_rotate_least_recently_used(llm_server: LoopbackLLMServer) -> None:
    b = backend(llm_server, keys=["sk-a", "sk-b", "sk-c"])
    for _ in range(6):
        await b.complete(ask())
    assert [r.api_key for r in llm_server.requests] == ["sk-a", "sk-b", "sk-c", "sk-a", "sk-b", "sk-c"]


async def test_rate_limited_key_is_put_aside(llm_server: LoopbackLLMServer) -> None:
    b = backend(llm_server, keys=["sk-a", "sk-b"], key_cooldown_s=60)
    llm_server.script(Reply.rate_limit(), "ok", "ok", "ok")
    await b.complete(ask())  # sk-a gets 429, the retry goes to sk-b at once
    await b.complete(ask())
    await b.complete(ask())
    assert [r.api_key for r in llm_server.requests] == ["sk-a", "sk-b", "sk-b", "sk-b"]


async def test_all_keys_resting_waits_for_the_first_back(llm_server: LoopbackLLMServer) -> None:
    b = backend(llm_server, keys=["sk-a", "sk-b"], key_cooldown_s=0.05)
    llm_server.script(Reply.rate_limit(), Reply.rate_limit(), "ok")
    assert (await b.complete(ask())).content == "ok"
    assert [r.api_key for r in llm_server.requests] == ["sk-a", "sk-b", "sk-a"]


async def test_keys_never_reach_errors_or_logs(llm_server: LoopbackLLMServer, caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-very-secret-0123456789"
    llm_server.script(
        Reply.rate_limit(),
        Reply(status=400, error={"message": f"Incorrect API key provided: {secret}", "type": "invalid_request_error"}),
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ProviderError) as info:
        await backend(llm_server, keys=[secret]).complete(ask())
    assert secret not in str(info.value)
    assert "***" in str(info.value)
    assert caplog.records, "the retry should have been logged"
    assert secret not in caplog.text


async def test_stream_yields_chunks_and_usage(llm_server: LoopbackLLMServer) -> None:
    llm_server.script("one two three")
    chunks = [c async for c in backend(llm_server).stream(ask())]
    assert "".join(c.delta for c in chunks) == "one two three"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    assert llm_server.requests[0].body["stream_options"] == {"include_usage": True}


async def test_stream_retries_before_the_first_chunk(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(Reply.rate_limit(), Reply.server_error(502), "streamed")
    chunks = [c async for c in backend(llm_server).stream(ask())]
    assert "".join(c.delta for c in chunks) == "streamed"
    assert len(llm_server.requests) == 3


def test_backoff_grows_and_stays_bounded() -> None:
    import random

    policy = RetryPolicy(max_retries=10, base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(0)
    delays = [policy.delay(i, rng) for i in range(8)]
    assert 0.5 <= delays[0] <= 1.0
    assert 2.0 <= delays[2] <= 4.0
    assert all(d <= 8.0 for d in delays)
    assert policy.delay(0, rng, retry_after=30) == 8.0  # Retry-After honoured only up to the bound
    assert policy.delay(0, rng, retry_after=3) == 3.0


async def test_timeouts_are_retried(llm_server: LoopbackLLMServer) -> None:
    llm_server.script(Reply(content="too slow", delay_s=2.0), "in time")
    done = await backend(llm_server, timeout_s=0.5).complete(ask())
    assert done.content == "in time"
    assert len(llm_server.requests) == 2


async def test_connection_errors_are_retried_then_reported() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = LiteLLMBackend(
        "openai/gpt-4o-mini",
        api_base=f"http://user:hunter2pass@127.0.0.1:{port}/v1",
        api_keys=["sk-a"],
        retry=RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.02),
    )
    with pytest.raises(ProviderError) as info:
        await dead.complete(ask())
    assert "gave up after 3 tries" in str(info.value)
    assert "hunter2pass" not in str(info.value)
