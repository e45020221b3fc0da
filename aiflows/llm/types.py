"""The data that crosses the backend boundary, and the `Backend` protocol itself.

Every backend (litellm, transformers, anything a user writes) takes a `Request` and gives back a
`Completion`, or streams `Chunk`s. A request holds only what decides the answer, never a secret,
so it is also what the response cache is keyed by.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Backend", "ChatMessage", "Chunk", "Completion", "Request", "Usage", "collect"]

Role = Literal["system", "user", "assistant", "tool"]


class ChatMessage(BaseModel):
    """One turn of a conversation."""

    model_config = ConfigDict(frozen=True)

    role: Role
    content: str


class Request(BaseModel):
    """What to ask a model: messages plus sampling options.

    Options left at None are not sent, so the provider's own default applies.
    """

    model_config = ConfigDict(frozen=True)

    model: str  # the model as the backend names it (without the `hf:`/`local:` prefix rules applied)
    messages: tuple[ChatMessage, ...]
    n: int = Field(default=1, ge=1)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    response_format: dict[str, Any] | None = None  # OpenAI-style {"type": "json_object"} or json_schema

    def sampling(self) -> dict[str, Any]:
        """The options that are set, as keyword arguments for a provider call."""
        keys = ("temperature", "top_p", "max_tokens", "seed", "presence_penalty", "frequency_penalty")
        out: dict[str, Any] = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        if self.stop:
            out["stop"] = list(self.stop)
        if self.response_format is not None:
            out["response_format"] = self.response_format
        return out


class Usage(BaseModel):
    """Tokens and money spent; adds up across calls."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0  # model calls that were answered (a cache hit counts, and in `cached_calls`)
    cached_calls: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
        )


class Completion(BaseModel):
    """A model's answer: one text per requested completion, plus usage."""

    completions: list[str]
    finish_reasons: list[str | None] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str = ""  # the model that answered, as the provider reports it
    cached: bool = False

    @property
    def content(self) -> str:
        return self.completions[0] if self.completions else ""


class Chunk(BaseModel):
    """A piece of a streamed answer: a text delta for completion `index`, or the final usage."""

    index: int = 0
    delta: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None  # set on the last chunk when the provider reports it


@runtime_checkable
class Backend(Protocol):
    """Anything that can answer a `Request`.

    Backends raise the typed errors of `aiflows.llm.errors` and do their own retries; callers
    see either an answer or an error that will not go away by asking again.
    """

    async def complete(self, request: Request) -> Completion: ...

    def stream(self, request: Request) -> AsyncIterator[Chunk]: ...


async def collect(chunks: AsyncIterator[Chunk], n: int = 1) -> Completion:
    """Assemble a streamed answer into a `Completion`."""
    texts: list[list[str]] = [[] for _ in range(n)]
    reasons: list[str | None] = [None] * n
    usage = Usage()
    async for chunk in chunks:
        while chunk.index >= len(texts):
            texts.append([])
            reasons.append(None)
        if chunk.delta:
            texts[chunk.index].append(chunk.delta)
        if chunk.finish_reason:
            reasons[chunk.index] = chunk.finish_reason
        if chunk.usage is not None:
            usage = chunk.usage
    return Completion(completions=["".join(t) for t in texts], finish_reasons=reasons, usage=usage)
