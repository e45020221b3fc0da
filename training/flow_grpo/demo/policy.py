"""The demo's planners: a tiny causal LM built here (no download), served in-process, and a weak demonstrator.

`build_tiny_planner` trains a byte-level BPE tokenizer on the task's own text and builds a 2-layer
Qwen2 with random weights. `LivePolicy` answers the planner's requests from that model object, so
weights a trainer updates are used by the very next rollout. `Demonstrator` is the scripted, weak
teacher whose traces warm-start the model: it knows each plan but, more often than not, finishes one
hop short of the end (the last retrieval or the arithmetic left undone).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agents import TokenCompletion
from agents.eval.kbqa import KB
from aiflows.llm.types import Chunk, Completion, Request, Usage

__all__ = ["PLANS", "Demonstrator", "LivePolicy", "actions", "build_tiny_planner", "chat_ids", "kind_of", "plan_step"]

# The correct plan of each kind of question, as (tool, sub-goal) per turn.
PLANS: dict[str, list[tuple[str, str]]] = {
    "attribute": [("retrieve", "entity 1"), ("finish", "answer")],
    "chain2": [("retrieve", "entity 1"), ("retrieve", "office"), ("finish", "answer")],
    "chain3": [("retrieve", "entity 1"), ("retrieve", "employer"), ("retrieve", "office"), ("finish", "answer")],
    "sum": [
        ("retrieve", "entity 1"),
        ("retrieve", "employer"),
        ("retrieve", "entity 2"),
        ("retrieve", "employer"),
        ("calculator", "add"),
        ("finish", "answer"),
    ],
    "difference": [
        ("retrieve", "entity 1"),
        ("retrieve", "employer"),
        ("retrieve", "office"),
        ("retrieve", "entity 2"),
        ("calculator", "subtract"),
        ("finish", "answer"),
    ],
}


def kind_of(query: str) -> str:
    """The kind of a kbqa question, read from its wording (what a scripted planner can know)."""
    if "subtract" in query:
        return "difference"
    if "together" in query:
        return "sum"
    if "works for" in query:
        return "chain3"
    return "chain2" if "company" in query else "attribute"


def action_text(tool: str, sub_goal: str) -> str:
    """The planner's answer format: two labelled lines the agent's parser reads."""
    return f"Tool Name: {tool}\nSub-Goal: {sub_goal}"


def plan_step(query: str, done: int, rng: random.Random, p_early: float) -> tuple[str, str]:
    """The demonstrator's action after `done` steps: the plan's next one, but one hop short of the end
    it finishes instead of taking the last step with probability `p_early` (one decision per kind)."""
    plan = PLANS[kind_of(query)]
    if done >= len(plan):
        return ("finish", "answer")
    if 0 < done == len(plan) - 2 and rng.random() < p_early:
        return ("finish", "answer")
    return plan[done]


def chat_ids(tokenizer: Any, messages: list[dict[str, str]]) -> list[int]:
    out = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True)
    if isinstance(out, dict) or (out and not isinstance(out[0], int)):
        out = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)["input_ids"]
    return [int(t) for t in out]


def _corpus(kbs: list[KB]) -> list[str]:
    from .task import REFERENCES, TOOLS

    texts = [action_text(t, r) for t in TOOLS for r in REFERENCES]
    for kb in kbs:
        texts += [p["title"] + ": " + p["text"] for p in kb.corpus()]
        for split in ("train", "test_entity", "test_composition"):
            texts += [q.question for q in kb.questions(split, 5)]
    texts.append('Action Step 1:\n  Tool: retrieve\n  Sub-goal: x\n  Command: {"query": "x", "k": 1}\n  Result: 1.')
    return texts


def actions() -> list[str]:
    """Every answer the planner can give (tool x reference), each one token of the planner's vocabulary."""
    from .task import REFERENCES, TOOLS

    return [action_text(t, r) for t in TOOLS for r in REFERENCES]


def build_tiny_planner(folder: Path, kbs: list[KB], *, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """A random 2-layer Qwen2 and a BPE tokenizer trained on the task's text, saved in `folder`.

    Built by the library's `aiflows.llm.tiny.build_tiny_causal_lm`; what is the demo's own is the corpus
    (the KB's passages, its questions, a rendered memory step) and the whole actions added as single
    tokens, so each planner turn is one decision (and one token to sample) rather than ten.
    """
    from aiflows.llm.tiny import build_tiny_causal_lm

    return build_tiny_causal_lm(
        folder,
        _corpus(kbs),
        vocab_size=800,
        hidden=hidden,
        layers=layers,
        max_positions=1024,
        words=actions(),
        seed=seed,
    )


class LivePolicy:
    """A `TokenBackend` over a model object held in memory; concurrent requests are decoded as one batch.

    Rollouts run concurrently (one agent flow each); their planner calls meet here and are decoded
    together with left padding and a KV cache, which is what makes G rollouts per query affordable on
    a CPU. Log-probabilities are those of the distribution sampled from, as `agents.LocalPolicy` records.
    `active` is the number of rollouts in flight: a batch starts once all of them wait (or after `wait_s`),
    its requests in the order of their prompts, so which sample a prompt gets does not depend on which
    rollout reached the planner first: a seed gives the same run on a busy machine as on an idle one.
    """

    def __init__(
        self, model: Any, tokenizer: Any, *, max_new_tokens: int = 16, seed: int = 0, wait_s: float = 5.0
    ) -> None:
        self.wait_s = wait_s
        self.model_obj, self.tokenizer = model, tokenizer
        self.max_new_tokens = max_new_tokens
        self.model = "demo-planner"
        self.seed = seed
        self.generator: Any = None
        self.active = 1
        self._pending: list[tuple[Request, asyncio.Future[TokenCompletion]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None

    def _batch(self, requests: list[Request]) -> list[TokenCompletion]:
        import torch

        tok, model = self.tokenizer, self.model_obj
        if self.generator is None:
            self.generator = torch.Generator().manual_seed(self.seed)
        prompts = [chat_ids(tok, [{"role": m.role, "content": m.content} for m in r.messages]) for r in requests]
        temps = torch.tensor([r.temperature or 0.0 for r in requests])
        limit = max(r.max_tokens or self.max_new_tokens for r in requests)
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), tok.pad_token_id)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, width - len(p) :] = torch.tensor(p)
            mask[i, width - len(p) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        responses: list[list[int]] = [[] for _ in prompts]
        logprobs: list[list[float]] = [[] for _ in prompts]
        done = torch.zeros(len(prompts), dtype=torch.bool)
        past = None
        with torch.inference_mode():
            for _ in range(limit):
                out = model(
                    input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=past, use_cache=True
                )
                past = out.past_key_values
                logits = out.logits[:, -1].float()
                scaled = logits / temps.clamp(min=1e-6).unsqueeze(-1)
                logp = torch.log_softmax(torch.where((temps > 0).unsqueeze(-1), scaled, logits), dim=-1)
                sampled = torch.multinomial(logp.exp(), 1, generator=self.generator).squeeze(-1)
                token = torch.where(temps > 0, sampled, logits.argmax(-1))
                for i in range(len(prompts)):
                    if not done[i]:
                        t = int(token[i])
                        responses[i].append(t)
                        logprobs[i].append(float(logp[i, t]))
                        done[i] = t == tok.eos_token_id
                if bool(done.all()):
                    break
                ids = token.unsqueeze(-1)
                mask = torch.cat([mask, torch.ones((len(prompts), 1), dtype=torch.long)], dim=-1)
                positions = positions[:, -1:] + 1
        out_list = []
        for p, r, lp in zip(prompts, responses, logprobs, strict=True):
            usage = Usage(prompt_tokens=len(p), completion_tokens=len(r), total_tokens=len(p) + len(r), calls=1)
            out_list.append(TokenCompletion(tok.decode(r, skip_special_tokens=True), p, r, lp, usage, self.model))
        return out_list

    async def _drain(self) -> None:
        try:
            while self._pending:
                loop = asyncio.get_running_loop()
                deadline = loop.time() + self.wait_s
                while len(self._pending) < self.active and loop.time() < deadline:
                    await asyncio.sleep(0.001)
                batch, self._pending = self._pending, []
                batch.sort(key=lambda item: [(m.role, m.content) for m in item[0].messages])
                try:
                    answers = self._batch([r for r, _ in batch])
                except Exception as exc:  # every waiting call gets the error, none waits forever
                    for _, future in batch:
                        future.set_exception(exc)
                    continue
                for (_, future), done in zip(batch, answers, strict=True):
                    future.set_result(done)
        finally:
            self._draining = False

    async def complete_tokens(self, request: Request) -> TokenCompletion:
        future: asyncio.Future[TokenCompletion] = asyncio.get_running_loop().create_future()
        self._pending.append((request, future))
        if not self._draining:
            self._draining = True
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def complete(self, request: Request) -> Completion:
        done = await self.complete_tokens(request)
        return Completion(completions=[done.text], finish_reasons=["stop"], usage=done.usage, model=self.model)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        done = await self.complete(request)
        yield Chunk(delta=done.content, finish_reason="stop")
        yield Chunk(usage=done.usage)


class Demonstrator:
    """The weak scripted teacher, as a backend: it follows the right plan but finishes early with `p_early`.

    Every (messages, answer) it gives is kept in `traces`, the supervised data of the warm start.
    """

    def __init__(self, *, p_early: float, seed: int) -> None:
        self.rng = random.Random(seed)
        self.p_early = p_early
        self.model = "demonstrator"
        self.traces: list[tuple[list[dict[str, str]], str]] = []

    async def complete(self, request: Request) -> Completion:
        user = request.messages[-1].content
        query = user.split("\n", 1)[0]
        tool, goal = plan_step(query, user.count("Action Step "), self.rng, self.p_early)
        text = action_text(tool, goal)
        self.traces.append(([{"role": m.role, "content": m.content} for m in request.messages], text))
        await asyncio.sleep(0)
        return Completion(completions=[text], finish_reasons=["stop"], usage=Usage(calls=1), model=self.model)

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        done = await self.complete(request)
        yield Chunk(delta=done.content, finish_reason="stop")
