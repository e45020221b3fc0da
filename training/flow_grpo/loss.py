"""The Flow-GRPO objective on tensors: token log-probabilities, the clipped ratio loss, k3 KL, entropy.

All tensors are (rows, response tokens) with a 0/1 `mask` of real tokens. Aggregation:
`token_mean` averages over every real token of the batch (verl's default); `seq_mean_token_mean`
averages each row over its own tokens, then weights rows by 1/T_i, T_i the number of planner turns
of the row's trajectory (the paper's per-trajectory averaging), so long trajectories do not dominate.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from torch import Tensor

    from .rows import Row

__all__ = ["LossAgg", "aggregate", "clipped_loss", "entropy_from_logits", "kl_k3", "token_logprobs"]

LossAgg = Literal["token_mean", "seq_mean_token_mean"]


def aggregate(values: Tensor, mask: Tensor, loss_agg: LossAgg = "token_mean", weights: Tensor | None = None) -> Tensor:
    """One number from per-token `values` over the real tokens, by `loss_agg` (row `weights` = 1/T_i)."""
    mask = mask.to(values.dtype)
    if loss_agg == "token_mean":
        return (values * mask).sum() / mask.sum().clamp(min=1.0)
    per_row = (values * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)
    w = mask.new_ones(per_row.shape) if weights is None else weights.to(values.dtype)
    return (per_row * w).sum() / w.sum().clamp(min=1e-12)


def clipped_loss(
    logprobs: Tensor,
    old_logprobs: Tensor,
    advantages: Tensor,
    mask: Tensor,
    *,
    clip_low: float = 0.2,
    clip_high: float = 0.3,
    loss_agg: LossAgg = "token_mean",
    weights: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """-min(r A, clip(r, 1 - low, 1 + high) A) aggregated, and the fraction of real tokens clipped.

    `advantages` is per row (rows,) or per token (rows, tokens).
    """
    import torch

    adv = advantages.unsqueeze(-1) if advantages.dim() == 1 else advantages
    ratio = torch.exp(logprobs - old_logprobs)
    clipped = torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    per_token = -torch.minimum(ratio * adv, clipped * adv)
    m = mask.to(per_token.dtype)
    was_clipped = ((ratio * adv) > (clipped * adv)).to(per_token.dtype)  # min chose the clipped side
    fraction = (was_clipped * m).sum() / m.sum().clamp(min=1.0)
    return aggregate(per_token, mask, loss_agg, weights), fraction.detach()


def kl_k3(logprobs: Tensor, ref_logprobs: Tensor) -> Tensor:
    """Per-token k3 estimator of KL(policy || reference): exp(d) - d - 1 with d = ref - policy (>= 0)."""
    import torch

    d = ref_logprobs - logprobs
    return torch.exp(d) - d - 1


def entropy_from_logits(logits: Tensor) -> Tensor:
    """Per-position entropy of the softmax over the last axis."""
    import torch

    logp = torch.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(-1)


def token_logprobs(
    model: Any, rows: list[Row], *, pad: int, temperature: float = 1.0, with_entropy: bool = False
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Log-probabilities of each row's response tokens under `model` (logits / temperature, as sampled).

    Rows are left-padded so every response ends at the last position, and the model computes logits
    for the last (longest response + 1) positions only: the output layer and the softmax never see the
    prompts. Returns (logprobs, mask, entropy or None), each (rows, longest response), left-aligned.
    """
    import torch

    width = max(len(r.prompt_ids) + len(r.response_ids) for r in rows)
    answer = max(len(r.response_ids) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attn = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        seq = r.prompt_ids + r.response_ids
        ids[i, width - len(seq) :] = torch.tensor(seq)
        attn[i, width - len(seq) :] = 1
    device = getattr(model, "device", None) or torch.device("cpu")
    ids, attn = ids.to(device), attn.to(device)
    positions = (attn.cumsum(-1) - 1).clamp(min=0)
    keep = min(width, answer + 1)
    try:
        out = model(input_ids=ids, attention_mask=attn, position_ids=positions, logits_to_keep=keep)
    except TypeError:  # a model without logits_to_keep: all positions, the last `keep` used
        out = model(input_ids=ids, attention_mask=attn, position_ids=positions)
    logits = out.logits[:, -keep:].float()
    if temperature > 0:
        logits = logits / temperature
    # the logits at position p predict token p + 1: row i's response is its last n tokens
    index = torch.zeros((len(rows), answer), dtype=torch.long)
    targets = torch.full((len(rows), answer), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), answer))
    for i, r in enumerate(rows):
        n = len(r.response_ids)
        index[i, :n] = torch.arange(keep - 1 - n, keep - 1)
        targets[i, :n] = torch.tensor(r.response_ids)
        mask[i, :n] = 1
    index, targets, mask = index.to(device), targets.to(device), mask.to(device)
    window = logits.gather(1, index.unsqueeze(-1).expand(-1, -1, logits.shape[-1]))
    logp = torch.log_softmax(window, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1) * mask
    entropy = entropy_from_logits(window) * mask if with_entropy else None
    return logp, mask, entropy
