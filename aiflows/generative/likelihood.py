"""Log-likelihood of data under a flow, through the divergence of its velocity.

Along a trajectory d/dt log p_t(x_t) = -div v(x_t, t), so integrating from the data at t = 1 back
to noise at t = 0 gives log p_1(x_1) = log p_0(x_0) - integral_0^1 div v dt. The divergence is exact
(one vector-Jacobian product per dimension: right for low dimension) or Hutchinson's estimate
E[eps^T (dv/dx) eps] with probes drawn once per integration (one product per probe).

    logp = log_likelihood(model, x1, method="rk4", steps=32)            # (batch_size,)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor

from .errors import NonFiniteVelocity, ShapeMismatch, StepsError, UnknownSolver
from .solvers import FIXED_GRID, fixed_step, make_grid
from .types import VelocityModel, nfe_per_call

__all__ = ["LikelihoodResult", "log_likelihood", "standard_normal_log_prob"]


def standard_normal_log_prob(x: Tensor) -> Tensor:
    """log N(x; 0, I) per sample: the default noise density."""
    flat = x.reshape(x.shape[0], -1)
    return -0.5 * (flat**2).sum(dim=1) - 0.5 * flat.shape[1] * math.log(2 * math.pi)


@dataclass
class LikelihoodResult:
    """Per-sample log p_1(x1), the noise each sample maps to, and the network evaluations used."""

    log_prob: Tensor
    x0: Tensor
    nfe: int


def log_likelihood(
    model: VelocityModel,
    x1: Tensor,
    *,
    method: str = "rk4",
    steps: int = 32,
    divergence: Literal["exact", "hutchinson"] = "exact",
    probes: int = 1,
    noise_log_prob: Callable[[Tensor], Tensor] = standard_normal_log_prob,
    generator: torch.Generator | None = None,
    **model_extras: Any,
) -> LikelihoodResult:
    """log p_1(x1) of data `x1` (`(batch_size, ...)`) under the flow of `model`, from t = 1 back to t = 0.

    Args:
        method, steps: a fixed-grid solver and its step count for the backward integration.
        divergence: "exact" (dimension-many products) or "hutchinson" (`probes` Rademacher probes).
        noise_log_prob: log density of the noise at t = 0 (standard normal by default).
    """
    if method not in FIXED_GRID:
        raise UnknownSolver(method, list(FIXED_GRID))
    if divergence not in ("exact", "hutchinson"):
        raise StepsError(f"divergence must be 'exact' or 'hutchinson', got {divergence!r}")
    grid = make_grid(steps, torch.tensor([1.0, 0.0]), like=x1)
    batch, shape = x1.shape[0], x1.shape
    dim = x1[0].numel()
    eps = None
    if divergence == "hutchinson":
        eps = torch.randint(0, 2, (probes, *shape), generator=generator, dtype=torch.int64).to(x1) * 2 - 1
    calls = 0

    def field(z: Tensor, t: float) -> Tensor:
        nonlocal calls
        calls += 1
        x = z[:, :dim].reshape(shape).detach().requires_grad_(True)
        with torch.enable_grad():
            v = model(x, torch.full((batch,), t, dtype=x.dtype, device=x.device), **model_extras)
            if v.shape != x.shape:
                raise ShapeMismatch(tuple(x.shape), tuple(v.shape), where=type(model).__name__)
            div = _divergence(v, x, eps)
        return torch.cat([v.detach().reshape(batch, dim), -div.detach().reshape(batch, 1)], dim=1)

    z = torch.cat([x1.reshape(batch, dim), torch.zeros(batch, 1, dtype=x1.dtype, device=x1.device)], dim=1)
    times = grid.tolist()
    for i in range(len(times) - 1):
        z = fixed_step(method, field, z, times[i], times[i + 1] - times[i])
        if not bool(torch.isfinite(z).all()):
            raise NonFiniteVelocity(step=i, t=times[i])
    x0 = z[:, :dim].reshape(shape)
    # z[:, dim] accumulated -integral_1^0 div v dt = +integral_0^1 div v dt
    log_prob = noise_log_prob(x0) - z[:, dim]
    return LikelihoodResult(log_prob=log_prob, x0=x0, nfe=calls * nfe_per_call(model))


def _divergence(v: Tensor, x: Tensor, eps: Tensor | None) -> Tensor:
    batch = x.shape[0]
    if eps is None:
        flat_v = v.reshape(batch, -1)
        div = torch.zeros(batch, dtype=v.dtype, device=v.device)
        for i in range(flat_v.shape[1]):
            (grad,) = torch.autograd.grad(flat_v[:, i].sum(), x, retain_graph=True)
            div = div + grad.reshape(batch, -1)[:, i]
        return div
    total = torch.zeros(batch, dtype=v.dtype, device=v.device)
    for probe in eps:
        (vjp,) = torch.autograd.grad(v, x, grad_outputs=probe, retain_graph=True)
        total = total + (vjp * probe).reshape(batch, -1).sum(dim=1)
    return total / eps.shape[0]
