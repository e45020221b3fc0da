"""The warm start: supervised training of the planner on the weak demonstrator's traces.

The traces are the demonstrator's answers inside real agent runs on the training questions; the
loss is cross-entropy on the answer tokens (and the end token), the prompt masked out.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from agents.eval.kbqa import KBQuestion

from .policy import Demonstrator, chat_ids
from .rollouts import make_planner
from .task import build_demo_agent

__all__ = ["demonstrations", "supervised"]


def demonstrations(
    corpus: Path, questions: list[KBQuestion], *, p_early: float, passes: int, seed: int
) -> list[tuple[list[dict[str, str]], str]]:
    """(messages, answer) of every planner turn the demonstrator took, `passes` runs per question."""
    teacher = Demonstrator(p_early=p_early, seed=seed)
    agent = build_demo_agent(make_planner(teacher, temperature=0.0), corpus)
    for i in range(passes):
        for q in questions:
            agent.run_sync({"query": q.question, "query_id": q.id, "rollout_id": f"demo-{i}"})
    return teacher.traces


def supervised(
    model: Any,
    tokenizer: Any,
    traces: list[tuple[list[dict[str, str]], str]],
    *,
    epochs: int,
    lr: float,
    batch: int,
    seed: int,
) -> list[float]:
    """Fit `model` to the traces in place; returns the mean loss of each epoch."""
    import torch

    rows = []
    for messages, answer in traces:
        prompt = chat_ids(tokenizer, messages)
        response = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append((prompt, response))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    rng = random.Random(seed)
    losses = []
    model.train()
    for _ in range(epochs):
        rng.shuffle(rows)
        total = 0.0
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            width = max(len(p) + len(r) for p, r in chunk)
            ids = torch.full((len(chunk), width), tokenizer.pad_token_id)
            labels = torch.full((len(chunk), width), -100)
            mask = torch.zeros((len(chunk), width), dtype=torch.long)
            for i, (p, r) in enumerate(chunk):
                seq = p + r
                ids[i, : len(seq)] = torch.tensor(seq)
                labels[i, len(p) : len(seq)] = torch.tensor(r)
                mask[i, : len(seq)] = 1
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(chunk)
        losses.append(total / len(rows))
    model.eval()
    return losses
