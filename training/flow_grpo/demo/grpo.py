"""One Flow-GRPO step for the demo's arms: the library's advantages and update, on the demo's rollouts.

Credit modes (the arms): `broadcast` gives the trajectory's reward to every planner turn (Flow-GRPO);
`last_turn` gives it to the final turn only (AgentFlow's ablation); `shuffled` permutes rewards across
the batch before anything else (a control that must not learn). Advantages are normalised within the
query's group (G trajectories) by `training.flow_grpo.compute_advantages`; groups whose rewards are all
equal are counted and give no gradient. The update is `training.flow_grpo.update`: token-level
min(r A, clip(r, 1 - 0.2, 1 + 0.3) A) with a k3 KL penalty to a frozen reference, one AdamW step.
What is the demo's own: `epochs`, passes
over one batch of rollouts (the clipped ratio keeps later passes near the sampling policy), which buys
more learning per rollout on a CPU where rollouts cost most.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from training.flow_grpo.advantages import Credit, compute_advantages
from training.flow_grpo.config import FlowGRPOConfig
from training.flow_grpo.rows import Row, Trajectory
from training.flow_grpo.train import update

from .rollouts import Rollout

__all__ = ["Credit", "Row", "StepStats", "grpo_step", "make_rows", "trajectories"]


@dataclass
class StepStats:
    reward: float
    zero_variance: float
    rows: int
    loss: float
    clip_fraction: float
    kl: float


def trajectories(rollouts: list[Rollout]) -> list[Trajectory]:
    """The library's trajectories of the demo's rollouts."""
    return [r.trajectory for r in rollouts]


def make_rows(rollouts: list[Rollout], credit: Credit, rng: random.Random) -> tuple[list[Row], float]:
    """Training rows of a batch (the library's `compute_advantages`) and the zero-variance group fraction."""
    rows, stats = compute_advantages(trajectories(rollouts), credit=credit, rng=rng)
    return rows, stats.zero_variance_fraction


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
    epochs: int = 1,
) -> tuple[float, float, float]:
    """`epochs` optimizer steps of the library's `update` on `rows`; mean loss, clip fraction and KL (k3).

    `pad` is the tokenizer's pad id; the library reads it from the model's config, which the demo's
    planner sets to the same id.
    """
    if not rows:
        return 0.0, 0.0, 0.0
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = pad
    config = FlowGRPOConfig(
        temperature=temperature,
        clip_low=clip_low,
        clip_high=clip_high,
        kl_coef=kl_coef,
        minibatch=minibatch,
        progress=False,
        plot=False,
    )
    done = [update(model, reference, optimizer, rows, [], config) for _ in range(epochs)]
    return (
        sum(d["loss"] for d in done) / epochs,
        sum(d["clip_fraction"] for d in done) / epochs,
        sum(d["kl"] for d in done) / epochs,
    )
