"""Distances between point clouds `(n, d)`: sliced W2, exact W2 (POT's network simplex) and RBF MMD.

Each compares samples with data; run it on two halves of the data too for the floor that sampling
noise alone gives (`data-against-data`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["exact_w2", "mmd_rbf", "sliced_w2"]


def _flat(x: Tensor) -> Tensor:
    return x.reshape(x.shape[0], -1).double()


def sliced_w2(a: Tensor, b: Tensor, *, projections: int = 256, seed: int = 0) -> float:
    """sqrt of the mean over random unit directions of the 1-D squared W2 (quantiles matched; equal n not needed)."""
    a, b = _flat(a), _flat(b)
    gen = torch.Generator().manual_seed(seed)
    dirs = torch.randn(a.shape[1], projections, generator=gen, dtype=torch.float64)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    pa, pb = (a.cpu() @ dirs).sort(dim=0).values, (b.cpu() @ dirs).sort(dim=0).values
    n = max(len(pa), len(pb))
    q = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    qa = pa[(q * len(pa)).long().clamp_max(len(pa) - 1)]
    qb = pb[(q * len(pb)).long().clamp_max(len(pb) - 1)]
    return math.sqrt(float(((qa - qb) ** 2).mean()))


def exact_w2(a: Tensor, b: Tensor) -> float:
    """W2 between the two empirical measures (uniform weights), exact by linear programming (POT)."""
    import ot

    a_np, b_np = _flat(a).cpu().numpy(), _flat(b).cpu().numpy()
    cost = ot.dist(a_np, b_np)  # squared Euclidean
    weights_a = ot.unif(len(a_np))
    weights_b = ot.unif(len(b_np))
    return math.sqrt(float(ot.emd2(weights_a, weights_b, cost, numItermax=10_000_000)))


def mmd_rbf(a: Tensor, b: Tensor, *, bandwidths: tuple[float, ...] = (0.1, 0.5, 1.0, 2.0, 5.0)) -> float:
    """Squared MMD (biased estimate) with a sum of RBF kernels, bandwidths relative to the data's scale."""
    a, b = _flat(a).cpu(), _flat(b).cpu()
    scale = float(torch.cat([a, b]).std(dim=0).pow(2).sum()) or 1.0

    def kernel(x: Tensor, y: Tensor) -> Tensor:
        d2 = torch.cdist(x, y).pow(2) / scale
        return sum((torch.exp(-d2 / (2 * h * h)) for h in bandwidths), torch.zeros_like(d2))

    return float(kernel(a, a).mean() + kernel(b, b).mean() - 2 * kernel(a, b).mean())
