"""`ChatFlow`: a model call as a flow, keeping its conversation as its own state.

Each session is a conversation: the first run renders the system prompt and the first-turn
template, later runs the later-turn template, and the model sees a window over what was said
before. Input is the template variables; output is the first completion (`content`), all of them
(`completions`), the tokens and money spent (`usage`) and, when a pydantic model was asked for,
the validated answer (`parsed`).

    chat = ChatFlow(name="tutor", config={
        "model": "openai/gpt-4o-mini",
        "system_prompt": "You teach {{ topic }}.",
        "first_prompt": "{{ question }}",
    })
    out = await chat.run({"topic": "maths", "question": "What is a group?"}, session="ada")
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, cast

from pydantic import BaseModel, ConfigDict, Field

from aiflows.context import Context
from aiflows.exceptions import ConfigError
from aiflows.flow import AtomicFlow

from .cache import CachedBackend, ResponseCache, open_cache
from .config import ChatConfig
from .conversation import assemble
from .errors import LLMError, StructuredOutputError
from .factory import build_backend, home_dir
from .models import ModelChoice, choose_model
from .prompts import PromptTemplate, load_prompt
from .structured import InvalidOutput, feedback, instruction, parse_output, response_format
from .types import Backend, ChatMessage, Chunk, Completion, Request, Usage, collect
from .usage import USAGE_EVENT, usage_event

__all__ = ["ChatFlow"]

log = logging.getLogger("aiflows.llm")

_DEFAULT_FIRST = "{{ query }}"


class ChatFlow(AtomicFlow):
    """A chat model as an atomic flow. See the module docstring and `ChatConfig`.

    Args:
        name, config, timeout: as for every flow; `config` is a `ChatConfig` or its dict.
        backend: answer with this backend instead of the one the config's model names
            (the config's `cache` still wraps it).
        response_model: a pydantic model the answer must match (else `config.response_model`,
            else the class attribute `response_model`).
        cache: a response cache to use instead of the one the config names.
        base_dir: where relative prompt files are looked up. Default: the folder of the module
            defining a ChatFlow subclass (prompts ship next to the flow), then the working directory.
        env: the environment to read (default: `os.environ`, read once, here).

    Raises:
        PromptTemplateError: a template does not parse.
        ConfigError: a prompt file is missing, or `response_model` cannot be imported.
    """

    class Input(BaseModel):
        """The template variables."""

        model_config = ConfigDict(extra="allow")

    class Output(BaseModel):
        content: str
        completions: list[str]
        usage: Usage
        parsed: dict[str, Any] | None = None

    class State(BaseModel):
        messages: list[ChatMessage] = Field(default_factory=list)  # system prompt first, then the turns
        usage: Usage = Field(default_factory=Usage)  # summed over the session

    Config: ClassVar[type[BaseModel] | None] = ChatConfig
    response_model: ClassVar[type[BaseModel] | None] = None
    config: ChatConfig

    def __init__(
        self,
        *,
        name: str | None = None,
        config: Any = None,
        timeout: float | None = None,
        backend: Backend | None = None,
        response_model: type[BaseModel] | None = None,
        cache: ResponseCache | None = None,
        base_dir: str | Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name=name, config=config, timeout=timeout)
        cfg = self.config
        environ = os.environ if env is None else env
        # Keep only what this flow reads: its keys stay out of anything else it holds.
        wanted = set(cfg.api_key_env) | {"HOME"}
        self._env = {k: v for k, v in environ.items() if k.startswith("AIFLOWS_") or k in wanted}
        base = [Path(base_dir)] if base_dir is not None else _prompt_folders(type(self))
        try:
            self._system = load_prompt(cfg.system_prompt, cfg.system_prompt_file, base_dir=base, key="system_prompt")
            first = load_prompt(cfg.first_prompt, cfg.first_prompt_file, base_dir=base, key="first_prompt")
            self._later = load_prompt(cfg.later_prompt, cfg.later_prompt_file, base_dir=base, key="later_prompt")
            self.choice: ModelChoice = choose_model(cfg.model, cfg.api_base, self._env)
        except LLMError as exc:
            exc.flow = self.name
            raise
        self._first = first or PromptTemplate(_DEFAULT_FIRST, name="first_prompt")
        self.schema: type[BaseModel] | None = response_model or _import_model(cfg.response_model, self.name)
        if self.schema is None:
            self.schema = type(self).response_model
        if backend is not None:
            label = getattr(backend, "model", None) or cfg.model or type(backend).__name__
            self.choice = ModelChoice(model=str(label), source="config")
        self._given_backend = backend
        self._given_cache = cache
        self._backend: Backend | None = None
        self._building = threading.Lock()  # first calls may race to build the backend in threads

    @property
    def model(self) -> str:
        """The model string this flow calls."""
        return self.choice.model

    def prompt_sources(self) -> str:
        """The system and first-turn templates as written: a lower bound on the first prompt's length."""
        parts = [t.source for t in (self._system, self._first) if t is not None]
        return "\n".join(parts)

    def backend(self) -> Backend:
        """The backend, built on first use (importing litellm or torch only then)."""
        with self._building:
            return self._backend if self._backend is not None else self._build()

    def _build(self) -> Backend:
        if self._backend is None:
            if self._given_backend is not None:
                store = self._given_cache or open_cache(self.config.cache, home=home_dir(self._env))
                inner = self._given_backend
                self._backend = CachedBackend(inner, store, namespace=self.config.cache_namespace) if store else inner
            else:
                self._backend = build_backend(self.choice, self.config, self._env, cache=self._given_cache)
        return self._backend

    # -- the handler ---------------------------------------------------------------------------
    async def handle(self, ctx: Context, data: BaseModel) -> dict[str, Any]:
        try:
            return await self._chat(ctx, data)
        except LLMError as exc:
            exc.flow = exc.flow or ctx.address
            exc.model = exc.model or self.model
            raise

    async def _chat(self, ctx: Context, data: BaseModel) -> dict[str, Any]:
        cfg = self.config
        variables = data.model_dump()
        state = cast(ChatFlow.State, ctx.state)
        first = not state.messages
        if first:
            system = self._system.render(variables) if self._system is not None else None
        else:
            system = state.messages[0].content if state.messages[0].role == "system" else None
        template = self._first if first or self._later is None else self._later
        user = ChatMessage(role="user", content=template.render(variables))
        history = [m for m in state.messages if m.role != "system"]
        messages = assemble(self._system_for_model(system), history, user, first_k=cfg.first_k, last_k=cfg.last_k)

        total = Usage()
        parsed: BaseModel | None = None
        tries = cfg.structured_retries + 1 if self.schema is not None else 1
        problem = ""
        completion: Completion | None = None
        for attempt in range(tries):
            completion = await self._call_model(ctx, self._request(messages), attempt)
            total = total + completion.usage
            if self.schema is None:
                break
            try:
                parsed = parse_output(completion.content, self.schema)
                break
            except InvalidOutput as bad:
                problem = bad.reason
                log.info("flow %s: invalid structured answer (try %d/%d): %s", ctx.address, attempt + 1, tries, problem)
                messages = [
                    *messages,
                    ChatMessage(role="assistant", content=completion.content),
                    ChatMessage(role="user", content=feedback(problem)),
                ]
        assert completion is not None
        if self.schema is not None and parsed is None:
            raise StructuredOutputError(
                f"the answer did not match {self.schema.__name__} after {tries} tries: {problem}",
                last_output=completion.content,
            )
        if first and system is not None:
            state.messages.append(ChatMessage(role="system", content=system))
        state.messages.extend([user, ChatMessage(role="assistant", content=completion.content)])
        state.usage = state.usage + total
        return {
            "content": completion.content,
            "completions": completion.completions,
            "usage": total,
            "parsed": parsed.model_dump(mode="json") if parsed is not None else None,
        }

    def _system_for_model(self, system: str | None) -> str | None:
        if self.schema is None:
            return system
        ask = instruction(self.schema)
        return f"{system}\n\n{ask}" if system else ask

    def _request(self, messages: list[ChatMessage]) -> Request:
        cfg = self.config
        return Request(
            model=self.model,
            messages=tuple(messages),
            n=cfg.n,
            temperature=cfg.temperature,
            top_p=cfg.top_p,
            max_tokens=cfg.max_tokens,
            stop=tuple(cfg.stop) if cfg.stop else None,
            seed=cfg.seed,
            presence_penalty=cfg.presence_penalty,
            frequency_penalty=cfg.frequency_penalty,
            response_format=response_format(self.schema, cfg.response_format) if self.schema is not None else None,
        )

    async def _call_model(self, ctx: Context, request: Request, attempt: int) -> Completion:
        # The first build imports litellm or torch (seconds): do it off the event loop.
        backend = self._backend if self._backend is not None else await asyncio.to_thread(self.backend)
        if self.config.stream:
            completion = await collect(_emitting(ctx, backend.stream(request)), request.n)
        else:
            completion = await backend.complete(request)
        usage = completion.usage if completion.usage.calls else completion.usage.model_copy(update={"calls": 1})
        cached = completion.cached or usage.cached_calls > 0
        completion = completion.model_copy(update={"usage": usage, "cached": cached})
        event = usage_event(flow=ctx.address, model=self.model, usage=usage, cached=cached, attempt=attempt)
        ctx.emit(USAGE_EVENT, event)
        return completion


async def _emitting(ctx: Context, chunks: AsyncIterator[Chunk]) -> AsyncIterator[Chunk]:
    """Pass chunks on, emitting each text delta as a "token" event."""
    async for chunk in chunks:
        if chunk.delta:
            ctx.emit("token", {"text": chunk.delta, "index": chunk.index})
        yield chunk


def _prompt_folders(cls: type) -> list[Path]:
    """Where a flow's relative prompt files are: next to its class (when it is a subclass), then the cwd."""
    module_file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    folders = [Path(module_file).resolve().parent] if module_file and cls is not ChatFlow else []
    return [*folders, Path.cwd()]


def _import_model(spec: str | None, flow: str) -> type[BaseModel] | None:
    if spec is None:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"flow '{flow}': response_model must be 'module:Class', not {spec!r}", key="response_model")
    try:
        value = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"flow '{flow}': cannot import {spec!r} ({exc})", key="response_model") from None
    if not (isinstance(value, type) and issubclass(value, BaseModel)):
        raise ConfigError(f"flow '{flow}': {spec!r} is not a pydantic model class", key="response_model")
    return value
