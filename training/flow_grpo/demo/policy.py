"""The demo's planners: a tiny causal LM built here (no download), served in-process, and a weak demonstrator.

`build_tiny_planner` trains a byte-level BPE tokenizer on the task's own text and builds a 2-layer
Qwen2 with random weights (the library's `InProcessPolicy` serves it to the planner, so weights a
trainer updates are used by the very next rollout). `Demonstrator` is the scripted, weak
teacher whose traces warm-start the model: it knows each plan but, more often than not, finishes one
hop short of the end (the last retrieval or the arithmetic left undone).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agents.eval.kbqa import KB
from aiflows.llm.types import Chunk, Completion, Request, Usage

__all__ = ["PLANS", "Demonstrator", "actions", "build_tiny_planner", "chat_ids", "kind_of", "plan_step"]

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
