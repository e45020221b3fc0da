"""Flow-GRPO: train an agent's planner inside the live agent flow (AgentFlow, arXiv 2510.05592).

The pieces, usable alone::

    from training.flow_grpo import Row, Trajectory, compute_advantages, clipped_loss, kl_k3, token_logprobs

    rows, stats = compute_advantages(trajectories, credit="broadcast")  # or "last_turn" / "shuffled"
    logp, mask, entropy = token_logprobs(model, rows, pad=tok.pad_token_id, temperature=0.7, with_entropy=True)
    old = torch.tensor(...)  # rows' old_logprobs padded like logp
    loss, clip_fraction = clipped_loss(logp, old, torch.tensor([r.advantage for r in rows]), mask)
    loss = loss + 0.001 * aggregate(kl_k3(logp, ref_logp), mask)

Trajectories hold one `Row` per planner turn (query id = the group, rollout id, turn index, prompt and
response ids, old log-probabilities, truncated flag) and the trajectory's reward.
"""

from .advantages import AdvantageStats, Credit, compute_advantages
from .loss import LossAgg, aggregate, clipped_loss, entropy_from_logits, kl_k3, token_logprobs
from .rows import Row, Trajectory

__all__ = [
    "AdvantageStats",
    "Credit",
    "LossAgg",
    "Row",
    "Trajectory",
    "aggregate",
    "clipped_loss",
    "compute_advantages",
    "entropy_from_logits",
    "kl_k3",
    "token_logprobs",
]
