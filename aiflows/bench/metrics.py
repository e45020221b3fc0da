"""The benchmark's numbers: the unbiased pass@k estimator and bootstrap confidence intervals.

pass@k (Chen et al., 2021): with n samples of which c are correct, the chance that at least one
of k samples drawn without replacement is correct, `1 - C(n-c, k) / C(n, k)`; averaged over
problems. Confidence intervals resample the problems with replacement (percentile bootstrap).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from fractions import Fraction

from pydantic import BaseModel

__all__ = ["Estimate", "bootstrap_ci", "estimate", "mean_pass_at_k", "pass_at_k"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k of one problem with `n` samples, `c` of them correct.

    >>> pass_at_k(5, 1, 1)
    0.2
    >>> round(pass_at_k(5, 2, 2), 4)   # 1 - C(3,2)/C(5,2) = 1 - 3/10
    0.7

    Raises:
        ValueError: unless 0 <= c <= n and 1 <= k <= n.
    """
    if not (0 <= c <= n) or not (1 <= k <= n):
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (got n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))  # exact, then rounded once


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """pass@k averaged over problems given as `(n, c)` pairs (0 for no problems)."""
    if not counts:
        return 0.0
    return sum(pass_at_k(n, c, k) for n, c in counts) / len(counts)


def bootstrap_ci(
    values: Sequence[float], *, resamples: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """A percentile-bootstrap interval for the mean of `values` (resampled with replacement).

    Seeded, so a report is the same every time it is rebuilt from the same records.
    """
    if not values:
        return (0.0, 0.0)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, not {level}")
    rng = random.Random(seed)
    size = len(values)
    means = sorted(sum(rng.choices(values, k=size)) / size for _ in range(resamples))
    tail = (1 - level) / 2
    low = means[max(0, math.floor(tail * resamples))]
    high = means[min(resamples - 1, math.ceil((1 - tail) * resamples) - 1)]
    return (low, high)


class Estimate(BaseModel):
    """A mean with its bootstrap interval."""

    value: float
    low: float
    high: float
    problems: int


def estimate(counts: Sequence[tuple[int, int]], k: int, *, resamples: int = 1000, seed: int = 0) -> Estimate:
    """pass@k over problems `(n, c)`, with a bootstrap interval over the problems."""
    per_problem = [pass_at_k(n, c, k) for n, c in counts]
    low, high = bootstrap_ci(per_problem, resamples=resamples, seed=seed)
    value = sum(per_problem) / len(per_problem) if per_problem else 0.0
    return Estimate(value=value, low=min(low, value), high=max(high, value), problems=len(per_problem))
