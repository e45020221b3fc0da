"""LLM modules: a model behind each of the agent's parts, configured like any chat flow.

`LLMModule` answers any phase (analysis, next_step, command, verify, answer) with the model its
`ChatConfig` names (an API model over litellm, a local `hf:`/`local:` model) or a backend it is
given. Its output is `content` (the raw text, for the tolerant parser), the structured fields when
the text parsed, and `usage`. `PlannerFlow` is the same with the trainable seam: with a recorder
attached, every model call is recorded with its tokens and ids (see `agents.recorder`).

    planner = PlannerFlow(name="planner", config={"model": "openai/gpt-4o-mini", "temperature": 0})
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import BaseModel

from aiflows.context import Context
from aiflows.flow import AtomicFlow
from aiflows.llm import Backend, ChatConfig, ChatMessage, Completion, PromptTemplate, Request, Usage
from aiflows.llm.factory import build_backend
from aiflows.llm.models import choose_model
from aiflows.llm.usage import USAGE_EVENT, usage_event

from ..parsing import ParseFailure, action_fields, command_fields, decision_fields, parse_analysis, parse_answer
from ..recorder import PlannerCall, Recorder
from ..types import ModuleInput
from .prompts import PROMPTS, SYSTEM
from .tokens import TokenBackend

__all__ = ["LLMModule", "PlannerFlow", "parse_phase"]


def parse_phase(phase: str, text: str, tool_names: list[str]) -> dict[str, Any]:
    """The structured fields of `text` for `phase` (raises `ParseFailure`).

    The turn's phases give their fields as the parser reads them, never building the model (its
    reader, `agents.normalize`, validates them once); the models of the once-per-query phases are
    flat, so their fields are their dump, read from the instance dict.
    """
    if phase == "next_step":
        return action_fields(text, tool_names)
    if phase == "command":
        return command_fields(text)
    if phase == "verify":
        return decision_fields(text)
    parsed = parse_analysis(text) if phase == "analysis" else parse_answer(text)
    return dict(parsed.__dict__)


class LLMModule(AtomicFlow):
    """A model answering the agent's module prompts. `config` is a `ChatConfig` (model, api_base,
    sampling; `system_prompt` replaces the default system prompt). `prompts` replaces the default prompt
    of a phase with a jinja2 template over the `ModuleInput` fields.
    """

    Input = ModuleInput
    Config: ClassVar[type[BaseModel] | None] = ChatConfig
    config: ChatConfig

    def __init__(
        self,
        *,
        name: str | None = None,
        config: Any = None,
        timeout: float | None = None,
        backend: Backend | None = None,
        prompts: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name=name, config=config, timeout=timeout)
        self._env = dict(os.environ if env is None else env)
        self._given = backend
        self._backend: Backend | None = backend
        given = dict(prompts or {})
        self.templates = {phase: PromptTemplate(text, name=f"{self.name}.{phase}") for phase, text in given.items()}
        self.system = self.config.system_prompt or SYSTEM
        self._system_message: ChatMessage | None = None

    @property
    def model(self) -> str:
        if self._given is not None:
            return str(getattr(self._given, "model", type(self._given).__name__))
        return choose_model(self.config.model, self.config.api_base, self._env).model

    def backend(self) -> Backend:
        """The backend, built on first use (importing litellm or torch only then)."""
        if self._backend is None:
            choice = choose_model(self.config.model, self.config.api_base, self._env)
            self._backend = build_backend(choice, self.config, self._env)
        return self._backend

    def request(self, data: ModuleInput) -> Request:
        """The model request for one module call: the system prompt and the phase's prompt."""
        fields = data.__dict__  # read from the instance dict: attribute reads on a model cost twice as much
        template = self.templates.get(fields["phase"])
        if template is not None:
            prompt = template.render(data.model_dump())
        else:  # a default prompt: a format string over the input's fields
            values = fields.copy()
            values["tool_list"] = ", ".join(fields["tool_names"])
            prompt = PROMPTS[fields["phase"]].format_map(values)
        cfg = self.config
        system = self._system_message
        if system is None or system.content != self.system:  # built once; rebuilt if `system` is reassigned
            system = self._system_message = ChatMessage(role="system", content=self.system)
        # Validated in one call, the user message inside the request's (a message of its own costs a
        # second validation): this runs on every module call.
        return Request.model_validate(
            {
                "model": self.model,
                "messages": (system, {"role": "user", "content": prompt}),
                "temperature": cfg.temperature,
                "top_p": cfg.top_p,
                "max_tokens": cfg.max_tokens,
                "stop": tuple(cfg.stop) if cfg.stop else None,
                "seed": cfg.seed,
            }
        )

    async def handle(self, ctx: Context, data: ModuleInput) -> dict[str, Any]:
        request = self.request(data)
        text, usage = await self.generate(ctx, data, request)
        ctx.emit(USAGE_EVENT, usage_event(flow=ctx.address, model=request.model, usage=usage, cached=False, attempt=0))
        out: dict[str, Any] = {"content": text, "usage": dict(usage.__dict__)}  # flat numbers: its dump
        try:
            out.update(parse_phase(data.phase, text, data.tool_names))
        except ParseFailure as bad:
            out["parse_error"] = bad.reason
        return out

    async def generate(self, ctx: Context, data: ModuleInput, request: Request) -> tuple[str, Usage]:
        backend = self._backend if self._backend is not None else await asyncio.to_thread(self.backend)
        completion: Completion = await backend.complete(request)
        usage = completion.usage if completion.usage.calls else completion.usage.model_copy(update={"calls": 1})
        return completion.content, usage


class PlannerFlow(LLMModule):
    """The planner: an `LLMModule` whose model calls are recorded when a recorder is attached.

    Token ids and log-probabilities are recorded when the backend is a `TokenBackend`
    (e.g. `LocalPolicy`); other backends record the prompt and the response text.
    """

    def __init__(self, *, recorder: Recorder | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder

    def attach(self, recorder: Recorder | None) -> None:
        """Record every later model call with `recorder` (None detaches)."""
        self.recorder = recorder

    async def generate(self, ctx: Context, data: ModuleInput, request: Request) -> tuple[str, Usage]:
        recorder = self.recorder
        if recorder is None:
            return await super().generate(ctx, data, request)
        backend = self._backend if self._backend is not None else await asyncio.to_thread(self.backend)
        prompt = "\n\n".join(f"[{m.role}]\n{m.content}" for m in request.messages)
        call = PlannerCall(
            query_id=data.query_id,
            rollout_id=data.rollout_id,
            turn=data.turn,
            phase=data.phase,
            prompt=prompt,
            response="",
            model=self.model,
        )
        if isinstance(backend, TokenBackend):
            done = await backend.complete_tokens(request)
            call = call.model_copy(
                update={
                    "response": done.text,
                    "prompt_ids": done.prompt_ids,
                    "response_ids": done.response_ids,
                    "logprobs": done.logprobs,
                }
            )
            recorder.record(call)
            return done.text, done.usage
        text, usage = await super().generate(ctx, data, request)
        recorder.record(call.model_copy(update={"response": text}))
        return text, usage
