"""The response cache: hits cost nothing, the key is the exact request, secrets stay out."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from aiflows.llm import (
    CachedBackend,
    ChatMessage,
    Completion,
    LiteLLMBackend,
    RedisCache,
    Request,
    RetryPolicy,
    SQLiteCache,
    Usage,
    cache_key,
    open_cache,
)
from aiflows.llm.testing import LoopbackLLMServer, Reply


def ask(text: str = "hi", **options: object) -> Request:
    return Request(model="openai/gpt-4o-mini", messages=(ChatMessage(role="user", content=text),), **options)


def test_key_depends_on_every_part_of_the_request() -> None:
    base = cache_key(ask())
    assert cache_key(ask()) == base
    variants = [
        ask("other"),
        ask(temperature=0.5),
        ask(n=2),
        ask(max_tokens=10),
        ask(seed=1),
        ask(stop=("x",)),
        ask(response_format={"type": "json_object"}),
        Request(model="openai/gpt-4o", messages=ask().messages),
    ]
    keys = {cache_key(v) for v in variants}
    assert base not in keys and len(keys) == len(variants)
    assert cache_key(ask(), namespace="vllm-a") != base


async def test_sqlite_cache_round_trip(tmp_path: Path) -> None:
    cache = SQLiteCache(tmp_path / "c.sqlite")
    usage = Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3, cost_usd=0.5, calls=1)
    done = Completion(completions=["a", "b"], usage=usage)
    assert await cache.get("k") is None
    await cache.put("k", done)
    assert await cache.get("k") == done
    await cache.close()
    reopened = SQLiteCache(tmp_path / "c.sqlite")
    assert (await reopened.get("k")) == done
    await reopened.close()


def test_open_cache_rules(tmp_path: Path) -> None:
    assert open_cache(None, home=tmp_path) is None
    assert open_cache("off", home=tmp_path) is None
    default = open_cache("sqlite", home=tmp_path)
    assert isinstance(default, SQLiteCache) and default.path == tmp_path / "llm_cache.sqlite"
    explicit = open_cache(str(tmp_path / "x.db"), home=tmp_path)
    assert isinstance(explicit, SQLiteCache) and explicit.path == tmp_path / "x.db"
    assert isinstance(open_cache("redis://127.0.0.1:1/0", home=tmp_path), RedisCache)


async def test_chat_flow_cache_hit_makes_no_request_and_costs_nothing(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(cache="sqlite", first_prompt="{{ q }}")
    llm_server.script(Reply(content="cached answer", prompt_tokens=10, completion_tokens=3))
    first = await chat.run({"q": "same"}, session="a")
    events: list[dict] = []
    second = await chat.run({"q": "same"}, session="b", on_event=lambda ev: events.append(ev.data))
    assert len(llm_server.requests) == 1
    assert second["content"] == first["content"] == "cached answer"
    assert first["usage"]["cost_usd"] > 0
    assert second["usage"]["cost_usd"] == 0
    assert second["usage"]["cached_calls"] == 1
    usage_events = [e for e in events if e["type"] == "llm.usage"]
    assert usage_events[0]["cached"] is True


async def test_a_different_request_misses(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(cache="sqlite", first_prompt="{{ q }}")
    hot = make_chat(cache="sqlite", first_prompt="{{ q }}", temperature=1.0)
    await chat.run({"q": "same"}, session="a")
    await hot.run({"q": "same"}, session="a")
    await chat.run({"q": "different"}, session="b")
    assert len(llm_server.requests) == 3


async def test_streamed_answers_are_cached_and_replayed(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(cache="sqlite", stream=True)
    llm_server.script("streamed words here")
    await chat.run({"query": "x"}, session="a")
    tokens: list[str] = []
    out = await chat.run({"query": "x"}, session="b", on_event=lambda ev: tokens.append(ev.data.get("text", "")))
    assert len(llm_server.requests) == 1
    assert out["content"] == "streamed words here" == "".join(tokens)


async def test_keys_never_enter_the_cache_or_the_logs(
    llm_server: LoopbackLLMServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-live-abcdef0123456789SECRET"
    caplog.set_level(logging.DEBUG)
    db = tmp_path / "cache.sqlite"
    inner = LiteLLMBackend(
        "openai/gpt-4o-mini",
        api_base=llm_server.url,
        api_keys=[secret],
        retry=RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.02),
    )
    backend = CachedBackend(inner, SQLiteCache(db))
    llm_server.script(Reply.rate_limit(), "answer")
    await backend.complete(ask("question"))
    await backend.complete(ask("question"))
    assert llm_server.requests[0].api_key == secret  # the key was really used
    assert len(llm_server.requests) == 2  # one 429, one answer, then the hit
    await backend.cache.close()
    files = list(tmp_path.glob("cache.sqlite*"))
    assert any(b"answer" in p.read_bytes() for p in files)  # the answer is stored ...
    assert not any(secret.encode() in p.read_bytes() for p in files)  # ... the key is not
    assert secret not in caplog.text
    assert secret not in repr(inner) and secret not in repr(inner._pool)


async def test_redis_cache_against_a_real_server(redis_url: str, make_chat, llm_server: LoopbackLLMServer) -> None:
    import redis.asyncio as aioredis

    chat = make_chat(cache=redis_url, first_prompt="{{ q }}")
    await chat.run({"q": "shared"}, session="a")
    out = await chat.run({"q": "shared"}, session="b")
    assert len(llm_server.requests) == 1
    assert out["usage"]["cached_calls"] == 1
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = await client.keys("aiflows:llm:*")
        assert len(keys) == 1
        stored = await client.get(keys[0])
        assert b"echo: shared" in stored
        assert b"sk-test-1" not in stored
    finally:
        await client.aclose()


async def test_redis_cache_with_a_client_and_ttl(redis_url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url)
    try:
        cache = RedisCache(client, namespace="t", ttl_s=100)
        await cache.put("k", Completion(completions=["x"]))
        assert (await cache.get("k")).completions == ["x"]
        assert 0 < await client.ttl("t:llm:k") <= 100
    finally:
        await client.aclose()
