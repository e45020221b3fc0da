"""One Flow-GRPO step for the demo's arms, on the library's advantages, clipped loss and k3 KL.

Credit modes (the arms): `broadcast` gives the trajectory's reward to every planner turn (Flow-GRPO);
`last_turn` gives it to the final turn only (AgentFlow's ablation); `shuffled` permutes rewards across
the batch before anything else (a control that must not learn). Advantages are normalised within the
query's group (G trajectories); groups whose rewards are all equal are counted and give no gradient.
The loss is token-level: min(r A, clip(r, 1 - 0.2, 1 + 0.3) A) with a k3 KL penalty to a frozen reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from training.flow_grpo.advantages import Credit, compute_advantages
from training.flow_grpo.loss import aggregate, clipped_loss, kl_k3
from training.flow_grpo.rows import Row, Trajectory

from .rollouts import Rollout

__all__ = ["Credit", "Row", "StepStats", "grpo_step", "make_rows"]


@dataclass
class StepStats:
    reward: float
    zero_variance: float
    rows: int
    loss: float
    clip_fraction: float
    kl: float


def make_rows(rollouts: list[Rollout], credit: Credit, rng: random.Random) -> tuple[list[Row], float]:
    """Training rows of a batch (the library's `compute_advantages`) and the zero-variance group fraction."""
    trajectories = [
        Trajectory(
            query_id=r.question.id,
            rollout_id=f"{r.question.id}-{i}",
            reward=r.reward,
            turns=r.turns,
            invalid_actions=r.invalid,
            rows=[
                Row(
                    query_id=r.question.id,
                    rollout_id=f"{r.question.id}-{i}",
                    turn=c.turn,
                    prompt_ids=c.prompt_ids,
                    response_ids=c.response_ids,
                    old_logprobs=c.logprobs,
                )
                for c in r.calls
            ],
        )
        for i, r in enumerate(rollouts)
    ]
    rows, stats = compute_advantages(trajectories, credit=credit, rng=rng)
    return rows, stats.zero_variance_fraction


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
        policy, clip = clipped_loss(new, old, adv, valid, clip_low=clip_low, clip_high=clip_high)
        kl = aggregate(kl_k3(new, ref), valid)
        share = float(valid.sum()) / tokens  # token mean over the whole batch, minibatch by minibatch
        loss = (policy + kl_coef * kl) * share
        loss.backward()  # type: ignore[no-untyped-call]
        losses.append(float(loss.detach()))
        clips.append(float(clip))
        kls.append(float(kl.detach()))
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
