"""The trainable policy as the planner's backend: a transformers model object held in memory.

`InProcessPolicy` answers the planner's requests from the very model the trainer updates, returning
prompt/response token ids and per-token log-probabilities (a `TokenBackend`), so each step's rollouts
use the current weights. Sampling draws from its own `torch.Generator`, reseeded by the trainer every
step, which makes a run (and a resumed run) reproducible. A prompt longer than the model's positions
allow is cut from the left and remembered in `truncated`: its row is dropped after the advantages.

`build_tiny_policy` writes a model a CPU trains in seconds (aiflows.llm.tiny): a small Qwen2 with random
weights and a tokenizer whose only words are whole planner actions, so one token is one decision.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from agents import TokenCompletion
from aiflows.llm.types import Chunk, Completion, Request, Usage

__all__ = ["InProcessPolicy", "build_tiny_policy", "load_policy"]


class InProcessPolicy:
    """A `TokenBackend` over `model` and `tokenizer` objects; one request at a time, in call order."""

    def __init__(self, model: Any, tokenizer: Any, *, max_new_tokens: int = 16, name: str = "policy") -> None:
        self.model_obj, self.tokenizer = model, tokenizer
        self.max_new_tokens = max_new_tokens
        self.model = name
        self.generator: Any = None
        self.truncated: set[tuple[int, ...]] = set()

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
        import torch

        tok, model = self.tokenizer, self.model_obj
        if self.generator is None:
            self.reseed(0)
        prompt = self.prompt_ids([{"role": m.role, "content": m.content} for m in request.messages])
        limit = int(getattr(model.config, "max_position_embeddings", 1 << 30))
        new = request.max_tokens or self.max_new_tokens
        if len(prompt) + new > limit:  # does not fit: keep the prompt's end, mark the row
            prompt = prompt[len(prompt) + new - limit :]
            self.truncated.add(tuple(prompt))
        temperature = request.temperature or 0.0
        ids = torch.tensor([prompt])
        response: list[int] = []
        logprobs: list[float] = []
        past = None
        with torch.inference_mode():
            for _ in range(new):
                out = model(input_ids=ids, past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = out.logits[0, -1].float()
                logp = torch.log_softmax(logits / temperature if temperature > 0 else logits, dim=-1)
                if temperature > 0:
                    token = int(torch.multinomial(logp.exp(), 1, generator=self.generator))
                else:
                    token = int(logits.argmax())
                response.append(token)
                logprobs.append(float(logp[token]))
                if token == tok.eos_token_id:
                    break
                ids = torch.tensor([[token]])
        usage = Usage(
            prompt_tokens=len(prompt),
            completion_tokens=len(response),
            total_tokens=len(prompt) + len(response),
            calls=1,
        )
        text = tok.decode(response, skip_special_tokens=True)
        return TokenCompletion(text, prompt, response, logprobs, usage, self.model)

    async def complete_tokens(self, request: Request) -> TokenCompletion:
        return self.generate(request)

    async def complete(self, request: Request) -> Completion:
        done = self.generate(request)
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
