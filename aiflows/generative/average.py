"""Average-velocity models (MeanFlow, SplitMeanFlow): their losses and their 1-, 2- and k-step samplers.

u(x, s, t) is the average velocity over [s, t] of the flow through x at time s (t = 0 noise, t = 1
data), so x_t = x + (t - s) u(x, s, t): one network evaluation jumps any distance.

- MeanFlow (arXiv 2505.13447): differentiating (t - s) u(x_s, s, t) = integral_s^t v in s gives
  u = v + (t - s) d/ds u(x_s, s, t), with d/ds u = v . du/dx + du/ds: one `torch.func.jvp` per step.
- SplitMeanFlow (arXiv 2507.16884): the interval splits at any m in [s, t]:
  (t - s) u(x_s, s, t) = (m - s) u(x_s, s, m) + (t - m) u(x_m, m, t); three forward passes, no JVP.

Both losses return per-sample values; their fixed point is the true average velocity.

    u = AverageVelocityMLP(dim=2)                  # any (x, s, t) -> like x
    out = AverageSampler(u).sample(torch.randn(512, 2), steps=1)       # out.nfe == 1
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .errors import NonFiniteVelocity, ShapeMismatch
from .paths import AffinePath, _expand, gaussian_flow_map
from .solvers import SampleResult, make_grid
from .types import AverageVelocityModel, VelocityModel, nfe_per_call

__all__ = [
    "AverageAsVelocity",
    "AverageSampler",
    "adaptive_weight",
    "gaussian_average_velocity",
    "meanflow_loss",
    "meanflow_target",
    "splitmeanflow_loss",
    "splitmeanflow_target",
]


def meanflow_target(
    model: AverageVelocityModel, x_s: Tensor, s: Tensor, t: Tensor, v: Tensor, **extras: Any
) -> tuple[Tensor, Tensor]:
    """(u(x_s, s, t), its MeanFlow target v + (t - s) d/ds u, detached), with one JVP along (v, 1, 0)."""

    def u_of(x: Tensor, s_: Tensor, t_: Tensor) -> Tensor:
        return model(x, s_, t_, **extras)

    u, du_ds = torch.func.jvp(u_of, (x_s, s, t), (v, torch.ones_like(s), torch.zeros_like(t)))  # type: ignore[misc]
    if u.shape != x_s.shape:
        raise ShapeMismatch(tuple(x_s.shape), tuple(u.shape), where=type(model).__name__)
    return u, (v + _expand(t - s, v) * du_ds).detach()


def meanflow_loss(
    model: AverageVelocityModel,
    x_s: Tensor,
    s: Tensor,
    t: Tensor,
    v: Tensor,
    *,
    adaptive_power: float = 0.0,
    **extras: Any,
) -> Tensor:
    """Per-sample MeanFlow loss ||u - sg(target)||^2 (mean over dimensions).

    Args:
        x_s, s, t, v: points at time s, the interval [s, t] (`(batch_size,)` each) and the velocity at x_s
            (the conditional one in training, x1 - x0 on the CondOT path).
        adaptive_power: p of MeanFlow's adaptive weight 1 / (loss + 1e-3)^p (0 leaves the squared error).
    """
    u, target = meanflow_target(model, x_s, s, t, v, **extras)
    return adaptive_weight(((u - target) ** 2).reshape(len(u), -1).mean(dim=1), adaptive_power)


def splitmeanflow_target(
    model: AverageVelocityModel, x_s: Tensor, s: Tensor, m: Tensor, t: Tensor, **extras: Any
) -> Tensor:
    """The SplitMeanFlow target for u(x_s, s, t): the average of the two halves [s, m] and [m, t], detached."""
    with torch.no_grad():
        u_sm = model(x_s, s, m, **extras)
        x_m = x_s + _expand(m - s, x_s) * u_sm
        u_mt = model(x_m, m, t, **extras)
        lam = _expand((m - s) / (t - s).clamp_min(1e-12), x_s)
        return lam * u_sm + (1 - lam) * u_mt


def splitmeanflow_loss(
    model: AverageVelocityModel,
    x_s: Tensor,
    s: Tensor,
    m: Tensor,
    t: Tensor,
    v: Tensor,
    instant: Tensor,
    *,
    adaptive_power: float = 0.0,
    **extras: Any,
) -> Tensor:
    """Per-sample SplitMeanFlow loss: rows where `instant` is True learn u(x, s, s) = v (the boundary
    condition, plain flow matching); the others learn the split-interval consistency target."""
    u = model(x_s, s, torch.where(instant, s, t), **extras)
    if u.shape != x_s.shape:
        raise ShapeMismatch(tuple(x_s.shape), tuple(u.shape), where=type(model).__name__)
    target = torch.where(_expand(instant, v), v, splitmeanflow_target(model, x_s, s, m, t, **extras))
    return adaptive_weight(((u - target) ** 2).reshape(len(u), -1).mean(dim=1), adaptive_power)


def adaptive_weight(loss: Tensor, power: float) -> Tensor:
    """MeanFlow's adaptive weighting: per-sample loss / sg(loss + 1e-3)^power (power 0: unchanged).

    Its value stays near 1 when power is 1; log the unweighted loss to watch training."""
    if power == 0:
        return loss
    return loss / (loss.detach() + 1e-3) ** power


class AverageSampler:
    """Jumps along a time grid with an average-velocity model: x <- x + (t_next - t) u(x, t, t_next).

    `steps` equal jumps from noise (t = 0) to data (t = 1); exactly `steps` network evaluations.
    """

    def __init__(self, model: AverageVelocityModel) -> None:
        self.model = model

    def sample(
        self,
        x_init: Tensor,
        *,
        steps: int = 1,
        time_grid: Tensor | None = None,
        check_finite: bool = True,
        **model_extras: Any,
    ) -> SampleResult:
        grid = make_grid(steps, time_grid, like=x_init)
        x = x_init
        batch = x.shape[0]
        with torch.no_grad():
            for i in range(grid.numel() - 1):
                s, t = grid[i].reshape(1).expand(batch), grid[i + 1].reshape(1).expand(batch)
                u = self.model(x, s, t, **model_extras)
                if u.shape != x.shape:
                    raise ShapeMismatch(tuple(x.shape), tuple(u.shape), where=type(self.model).__name__)
                x = x + (grid[i + 1] - grid[i]) * u
                if check_finite and not bool(torch.isfinite(x).all()):
                    raise NonFiniteVelocity(step=i, t=float(grid[i]), what="average velocity")
        return SampleResult(x=x, nfe=(grid.numel() - 1) * nfe_per_call(self.model))


class AverageAsVelocity:
    """v(x, t) = u(x, t, t): an average-velocity model used by the ODE solvers (and guidance)."""

    def __init__(self, model: AverageVelocityModel) -> None:
        self.model = model
        self.nfe_per_call = nfe_per_call(model)

    def __call__(self, x: Tensor, t: Tensor, **extras: Any) -> Tensor:
        return self.model(x, t, t, **extras)


def gaussian_average_velocity(path: AffinePath, mean: Tensor, data_std: float) -> Callable[..., Tensor]:
    """The exact average velocity of `gaussian_velocity(path, mean, data_std)`; the velocity itself where s == t."""
    from .paths import gaussian_velocity

    velocity: VelocityModel = gaussian_velocity(path, mean, data_std)

    def average(x: Tensor, s: Tensor, t: Tensor, **_: object) -> Tensor:
        gap = _expand(t - s, x)
        jump = (gaussian_flow_map(path, mean, data_std, x, s, t) - x) / torch.where(gap == 0, 1.0, gap)
        return torch.where(gap == 0, velocity(x, s), jump)

    return average
