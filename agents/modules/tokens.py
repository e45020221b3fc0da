"""Backends that expose tokens: what the planner's recorder needs beyond text.

`TokenBackend` is a `Backend` that can also answer with the prompt's and the response's token ids
and the response's per-token log-probabilities. `LocalPolicy` is one, over a transformers causal LM
(a local folder, loaded once per process): the model a planner is trained as.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from aiflows.llm import ModelUnavailableError
from aiflows.llm.types import Chunk, Completion, Request, Usage

__all__ = ["LocalPolicy", "TokenBackend", "TokenCompletion"]


@dataclass(frozen=True)
class TokenCompletion:
    """One completion with its tokens: ids of prompt and response, a log-probability per response token."""

    text: str
    prompt_ids: list[int]
    response_ids: list[int]
    logprobs: list[float]
    usage: Usage
    model: str


@runtime_checkable
class TokenBackend(Protocol):
    """A backend that can also give tokens and log-probabilities (used by a planner with a recorder)."""

    async def complete(self, request: Request) -> Completion: ...

    def stream(self, request: Request) -> AsyncIterator[Chunk]: ...

    async def complete_tokens(self, request: Request) -> TokenCompletion: ...


_LOADED: dict[tuple[str, str], tuple[Any, Any, threading.Lock]] = {}
_LOADING = threading.Lock()


class LocalPolicy:
    """A transformers causal LM from a local folder (config, weights, tokenizer with a chat template).

    Greedy at temperature 0 (or None), sampling otherwise; log-probabilities are those of the
    distribution sampled from (logits divided by the temperature).
    """

    def __init__(self, path: str | Path, *, device: str = "cpu", max_new_tokens: int = 128) -> None:
        self.path = str(path)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.model = f"local:{self.path}"

    def _load(self) -> tuple[Any, Any, threading.Lock]:
        key = (self.path, self.device)
        with _LOADING:
            if key not in _LOADED:
                if not Path(self.path).is_dir():
                    raise ModelUnavailableError(f"no model folder at {self.path}", model=self.model)
                from transformers import AutoModelForCausalLM, AutoTokenizer

                tok = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
                model: Any = AutoModelForCausalLM.from_pretrained(self.path, local_files_only=True)
                model = model.to(self.device)
                model.eval()
                if tok.pad_token_id is None:
                    tok.pad_token = tok.eos_token
                _LOADED[key] = (tok, model, threading.Lock())
            return _LOADED[key]

    def _generate(self, request: Request) -> TokenCompletion:
        import torch

        tok, model, lock = self._load()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        prompt_ids: list[int] = list(tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True))
        if isinstance(prompt_ids, dict) or (prompt_ids and not isinstance(prompt_ids[0], int)):
            prompt_ids = list(
                tok.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
            )
        limit = int(getattr(model.config, "max_position_embeddings", 1 << 30))
        max_new = min(request.max_tokens or self.max_new_tokens, max(1, limit - len(prompt_ids)))
        temperature = request.temperature or 0.0
        options: dict[str, Any] = {
            "max_new_tokens": max_new,
            "do_sample": temperature > 0,
            "pad_token_id": tok.pad_token_id,
        }
        if temperature > 0:
            options["temperature"] = temperature
            options["top_k"] = 0
        ids = torch.tensor([prompt_ids], device=model.device)
        with lock, torch.inference_mode():
            if request.seed is not None:
                torch.manual_seed(request.seed)
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                output_logits=True,
                return_dict_in_generate=True,
                **options,
            )
        response = [int(t) for t in out.sequences[0][len(prompt_ids) :]]
        if tok.eos_token_id in response:  # keep the end token: training learns to stop
            response = response[: response.index(tok.eos_token_id) + 1]
        logprobs = []
        for step, token in enumerate(response):
            logits = out.logits[step][0].float()
            scaled = logits / temperature if temperature > 0 else logits
            logprobs.append(float(torch.log_softmax(scaled, dim=-1)[token]))
        text = tok.decode(response, skip_special_tokens=True)
        usage = Usage(
            prompt_tokens=len(prompt_ids),
            completion_tokens=len(response),
            total_tokens=len(prompt_ids) + len(response),
            calls=1,
        )
        return TokenCompletion(text, prompt_ids, response, logprobs, usage, self.model)

    async def complete_tokens(self, request: Request) -> TokenCompletion:
        return await asyncio.to_thread(self._generate, request)

    async def complete(self, request: Request) -> Completion:
        done = await self.complete_tokens(request)
        return Completion(completions=[done.text], finish_reasons=["stop"], usage=done.usage, model=self.model)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        done = await self.complete(request)
        yield Chunk(delta=done.content, finish_reason="stop")
        yield Chunk(usage=done.usage)
