"""Any object with `complete` and `stream` is a backend: a ChatFlow runs on it, cache included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from aiflows.llm import (
    Backend,
    CachedBackend,
    ChatFlow,
    Chunk,
    Completion,
    LiteLLMBackend,
    Request,
    SQLiteCache,
    TransformersBackend,
    Usage,
)


class Reverser:
    """A model behind the backend interface: answers with the last message reversed."""

    model = "test:reverser"

    def __init__(self) -> None:
        self.seen: list[Request] = []

    async def complete(self, request: Request) -> Completion:
        self.seen.append(request)
        text = request.messages[-1].content[::-1]
        usage = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2)
        return Completion(completions=[text] * request.n, usage=usage)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        done = await self.complete(request)
        for ch in done.content:
            yield Chunk(delta=ch)
        yield Chunk(usage=done.usage)


def test_backends_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(Reverser(), Backend)
    assert isinstance(TransformersBackend("x", local=True), Backend)
    assert isinstance(LiteLLMBackend("openai/gpt-4o-mini", api_keys=["k"]), Backend)
    assert isinstance(CachedBackend(Reverser(), SQLiteCache(tmp_path / "c.db")), Backend)


async def test_chat_flow_on_a_custom_backend_streams_and_caches(tmp_path: Path) -> None:
    model = Reverser()
    chat = ChatFlow(name="rev", backend=model, config={"stream": True, "cache": str(tmp_path / "c.db")})
    assert chat.model == "test:reverser"
    events: list[dict] = []
    out = await chat.run({"query": "abc"}, session="a", on_event=lambda ev: events.append(ev.data))
    assert out["content"] == "cba"
    assert [e["text"] for e in events if e["type"] == "token"] == ["c", "b", "a"]
    again = await chat.run({"query": "abc"}, session="b")
    assert again["content"] == "cba" and again["usage"]["cached_calls"] == 1
    assert len(model.seen) == 1
