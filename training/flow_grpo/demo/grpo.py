"""One Flow-GRPO step for the demo's arms: rows from recorded planner turns, group advantages, clipped update.

Credit modes (the arms): `broadcast` gives the trajectory's reward to every planner turn (Flow-GRPO);
`last_turn` gives it to the final turn only (AgentFlow's ablation); `shuffled` permutes rewards across
the batch before anything else (a control that must not learn). Advantages are normalised within the
query's group (G trajectories); groups whose rewards are all equal are counted and give no gradient.
The loss is token-level: min(r A, clip(r, 1 - 0.2, 1 + 0.3) A) with a k3 KL penalty to a frozen reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from .rollouts import Rollout

__all__ = ["Credit", "Row", "StepStats", "grpo_step", "make_rows"]

Credit = Literal["broadcast", "last_turn", "shuffled"]


@dataclass
class Row:
    prompt_ids: list[int]
    response_ids: list[int]
    old_logprobs: list[float]
    advantage: float


@dataclass
class StepStats:
    reward: float
    zero_variance: float
    rows: int
    loss: float
    clip_fraction: float
    kl: float


def make_rows(rollouts: list[Rollout], credit: Credit, rng: random.Random) -> tuple[list[Row], float]:
    """Training rows of a batch and the fraction of groups with zero reward variance."""
    rewards = [r.reward for r in rollouts]
    if credit == "shuffled":
        rng.shuffle(rewards)
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rollouts):
        groups.setdefault(r.question.id, []).append(i)
    rows: list[Row] = []
    flat = 0
    for members in groups.values():
        values = [rewards[i] for i in members]
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        if std < 1e-8:
            flat += 1
            continue
        for i in members:
            advantage = (rewards[i] - mean) / (std + 1e-6)
            calls = [c for c in rollouts[i].calls if c.response_ids]
            for k, call in enumerate(calls):
                given = advantage if credit != "last_turn" or k == len(calls) - 1 else 0.0
                rows.append(Row(call.prompt_ids, call.response_ids, call.logprobs, given))
    return rows, flat / max(1, len(groups))


def _token_logprobs(model: Any, rows: list[Row], pad: int) -> tuple[Any, Any]:
    """Log-probabilities of each row's response tokens under `model`, and the mask of real tokens."""
    import torch

    width = max(len(r.prompt_ids) + len(r.response_ids) for r in rows)
    answer = max(len(r.response_ids) for r in rows)
    ids = torch.full((len(rows), width), pad)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        seq = r.prompt_ids + r.response_ids
        ids[i, : len(seq)] = torch.tensor(seq)
        mask[i, : len(seq)] = 1
    logits = model(input_ids=ids, attention_mask=mask).logits.float()
    logp = torch.log_softmax(logits[:, :-1], dim=-1).gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    out = torch.zeros((len(rows), answer))
    valid = torch.zeros((len(rows), answer))
    for i, r in enumerate(rows):
        start = len(r.prompt_ids) - 1
        out[i, : len(r.response_ids)] = logp[i, start : start + len(r.response_ids)]
        valid[i, : len(r.response_ids)] = 1
    return out, valid


def grpo_step(
    model: Any,
    reference: Any,
    optimizer: Any,
    rows: list[Row],
    *,
    pad: int,
    temperature: float,
    clip_low: float = 0.2,
    clip_high: float = 0.3,
    kl_coef: float = 0.001,
    minibatch: int = 32,
) -> tuple[float, float, float]:
    """One pass over `rows` in minibatches; returns mean loss, clip fraction and KL (k3)."""
    import torch

    if not rows:
        return 0.0, 0.0, 0.0
    model.train()
    losses, clips, kls = [], [], []
    tokens = sum(len(r.response_ids) for r in rows)
    optimizer.zero_grad()
    for start in range(0, len(rows), minibatch):
        chunk = rows[start : start + minibatch]
        new, valid = _token_logprobs(_Tempered(model, temperature), chunk, pad)
        old = torch.zeros_like(new)
        adv = torch.zeros_like(new)
        for i, r in enumerate(chunk):
            old[i, : len(r.old_logprobs)] = torch.tensor(r.old_logprobs)
            adv[i, : len(r.response_ids)] = r.advantage
        with torch.no_grad():
            ref, _ = _token_logprobs(_Tempered(reference, temperature), chunk, pad)
        ratio = torch.exp(new - old)
        clipped = torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
        policy = -torch.minimum(ratio * adv, clipped * adv)
        k3 = torch.exp(ref - new) - (ref - new) - 1
        loss = ((policy + kl_coef * k3) * valid).sum() / tokens
        loss.backward()
        losses.append(float(loss.detach()))
        clips.append(float((((ratio - clipped).abs() > 1e-6).float() * valid).sum() / valid.sum()))
        kls.append(float((k3.detach() * valid).sum() / valid.sum()))
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    model.eval()
    return sum(losses), sum(clips) / len(clips), sum(kls) / len(kls)


class _Tempered:
    """The model's logits divided by the sampling temperature (log-probabilities as sampled)."""

    def __init__(self, model: Any, temperature: float) -> None:
        self.model, self.temperature = model, temperature if temperature > 0 else 1.0

    def __call__(self, **kwargs: Any) -> Any:
        out = self.model(**kwargs)
        out.logits = out.logits / self.temperature
        return out
