"""The trainable policy as the planner's backend: a transformers model object held in memory.

`InProcessPolicy` answers the planner's requests from the very model the trainer updates, returning
prompt/response token ids and per-token log-probabilities (a `TokenBackend`), so each step's rollouts
use the current weights. Requests of concurrent rollouts are decoded together: left-padded, one KV
cache, one forward per token for the whole batch. A batch starts when every rollout in flight
(`in_flight`, kept by `collect_rollouts`) waits on the policy, so which requests meet does not depend
on timing. A request's `seed` gives it its own sampler (the trainer derives it from the rollout and
turn), so a trajectory samples the same tokens whatever else is in its batch, in whichever process;
a request without one samples from `generator` (`reseed`). A prompt longer than the model's positions
allow is cut from the left and remembered in `truncated`: its row is dropped after the advantages.

`build_tiny_policy` writes a model a CPU trains in seconds (aiflows.llm.tiny): a small Qwen2 with random
weights and a tokenizer whose only words are whole planner actions, so one token is one decision.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from agents import TokenCompletion
from aiflows.llm.types import Chunk, Completion, Request, Usage

__all__ = ["InProcessPolicy", "build_tiny_policy", "load_policy"]


class InProcessPolicy:
    """A `TokenBackend` over `model` and `tokenizer` objects, decoding concurrent requests as one batch."""

    def __init__(self, model: Any, tokenizer: Any, *, max_new_tokens: int = 16, name: str = "policy") -> None:
        self.model_obj, self.tokenizer = model, tokenizer
        self.max_new_tokens = max_new_tokens
        self.model = name
        self.generator: Any = None
        self.truncated: set[tuple[int, ...]] = set()
        self.in_flight = 0  # rollouts that will call the policy again or finish (collect_rollouts keeps it)
        self._pending: list[tuple[Request, asyncio.Future[TokenCompletion]]] = []
        self._wake: asyncio.Event | None = None
        self._drain: asyncio.Task[None] | None = None

    def reseed(self, seed: int) -> None:
        import torch

        self.generator = torch.Generator().manual_seed(seed)

    def prompt_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        out = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True)
        if isinstance(out, dict) or (out and not isinstance(out[0], int)):
            out = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, return_dict=True)
            out = out["input_ids"]
        return [int(t) for t in out]

    def generate(self, request: Request) -> TokenCompletion:
        """One request decoded alone (the same tokens and, up to float rounding, log-probabilities as in a batch)."""
        return self.generate_batch([request])[0]

    def generate_batch(self, requests: Sequence[Request]) -> list[TokenCompletion]:
        """Decode `requests` together: left padding, one KV cache, each row its own temperature, budget and sampler."""
        import torch

        tok, model = self.tokenizer, self.model_obj
        if self.generator is None:
            self.reseed(0)
        limit = int(getattr(model.config, "max_position_embeddings", 1 << 30))
        budgets = [r.max_tokens or self.max_new_tokens for r in requests]
        prompts = []
        for request, new in zip(requests, budgets, strict=True):
            prompt = self.prompt_ids([{"role": m.role, "content": m.content} for m in request.messages])
            if len(prompt) + new > limit:  # does not fit: keep the prompt's end, mark the row
                prompt = prompt[len(prompt) + new - limit :]
                self.truncated.add(tuple(prompt))
            prompts.append(prompt)
        temps = [r.temperature or 0.0 for r in requests]
        n, width = len(prompts), max(len(p) for p in prompts)
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        ids = torch.full((n, width), pad, dtype=torch.long)
        mask = torch.zeros((n, width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, width - len(p) :] = torch.tensor(p)
            mask[i, width - len(p) :] = 1
        device = getattr(model, "device", None) or torch.device("cpu")
        ids, mask = ids.to(device), mask.to(device)
        shared = self.generator  # requests without a seed share the policy's sampler (on the model's device)
        if shared.device != device:
            shared = torch.Generator(device=device).manual_seed(int(torch.randint(1 << 62, (1,), generator=shared)))
        samplers = [
            torch.Generator(device=device).manual_seed(r.seed) if r.seed is not None else shared for r in requests
        ]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        scale = torch.tensor([t if t > 0 else 1.0 for t in temps], device=device).unsqueeze(-1)
        responses: list[list[int]] = [[] for _ in prompts]
        logprobs: list[list[float]] = [[] for _ in prompts]
        live = [True] * n
        past = None
        with torch.inference_mode():
            for _ in range(max(budgets)):
                out = model(
                    input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=past, use_cache=True
                )
                past = out.past_key_values
                logits = out.logits[:, -1].float()
                logp = torch.log_softmax(logits / scale, dim=-1)
                probs = logp.exp()
                greedy = logits.argmax(-1).tolist()
                tokens = []
                for i in range(n):
                    if not live[i]:
                        tokens.append(pad)
                        continue
                    t = int(torch.multinomial(probs[i], 1, generator=samplers[i])) if temps[i] > 0 else int(greedy[i])
                    responses[i].append(t)
                    logprobs[i].append(float(logp[i, t]))
                    live[i] = t != tok.eos_token_id and len(responses[i]) < budgets[i]
                    tokens.append(t)
                if not any(live):
                    break
                ids = torch.tensor(tokens, device=device).unsqueeze(-1)
                mask = torch.cat([mask, torch.ones((n, 1), dtype=torch.long, device=device)], dim=-1)
                positions = positions[:, -1:] + 1
        done = []
        for p, r, lp in zip(prompts, responses, logprobs, strict=True):
            usage = Usage(prompt_tokens=len(p), completion_tokens=len(r), total_tokens=len(p) + len(r), calls=1)
            done.append(TokenCompletion(tok.decode(r, skip_special_tokens=True), p, r, lp, usage, self.model))
        return done

    def release(self) -> None:
        """A rollout in flight finished: a batch waiting for it may start."""
        self.in_flight -= 1
        if self._wake is not None:
            self._wake.set()

    async def complete_tokens(self, request: Request) -> TokenCompletion:
        future: asyncio.Future[TokenCompletion] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if self._wake is not None:
            self._wake.set()
        if self._drain is None or self._drain.done():
            self._drain = asyncio.get_running_loop().create_task(self._run_batches())
        return await future

    async def _run_batches(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let requests made in the same tick join
            while len(self._pending) < self.in_flight:
                self._wake = asyncio.Event()
                await self._wake.wait()
            self._wake = None
            batch, self._pending = self._pending, []
            try:
                answers = self.generate_batch([r for r, _ in batch])
            except Exception as exc:  # noqa: BLE001 - every waiting call gets the error, none waits forever
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)

    async def complete(self, request: Request) -> Completion:
        done = await self.complete_tokens(request)
        return Completion(completions=[done.text], finish_reasons=["stop"], usage=done.usage, model=self.model)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        done = await self.complete(request)
        yield Chunk(delta=done.content, finish_reason="stop")
        yield Chunk(usage=done.usage)


def build_tiny_policy(
    folder: Path, actions: Sequence[str], *, hidden: int = 32, layers: int = 1, max_positions: int = 512, seed: int = 0
) -> Path:
    """A random tiny Qwen2 whose vocabulary is the special tokens and `actions` (each one token), saved in `folder`.

    The rest of a prompt reads as `<unk>` (one per unknown word), so a random model picks an action about
    one time in len(actions) + 4 and a few steps make the right one its habit.
    """
    from aiflows.llm.tiny import build_tiny_causal_lm

    return build_tiny_causal_lm(
        folder,
        actions,
        vocab_size=0,
        hidden=hidden,
        layers=layers,
        heads=2,
        kv_heads=1,
        max_positions=max_positions,
        words=actions,
        alphabet=0,
        seed=seed,
    )


def load_policy(path: str | Path) -> tuple[Any, Any]:
    """(model, tokenizer) of a transformers causal LM folder, in float32 on the CPU."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"policy: no transformers model at {folder} (config.json missing)")
    # a tokenizer saved from a tokenizers object (as build_tiny_policy does) loads as itself, not as the
    # model type's default tokenizer class
    own = (folder / "tokenizer_config.json").is_file() and "TokenizersBackend" in (
        folder / "tokenizer_config.json"
    ).read_text()
    tok = (PreTrainedTokenizerFast if own else AutoTokenizer).from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model, tok
