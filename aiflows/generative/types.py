"""What a sampler needs from a model, with the one time convention used everywhere here.

Time convention: **t = 0 is noise, t = 1 is data.** A path goes x_0 ~ p_noise to x_1 ~ p_data; a
velocity model answers dx/dt at (x, t). Libraries with the other convention (MeanFlow's paper,
diffusers' sigmas) are converted where they are wrapped, never inside a solver.

Shapes: `x` is `(batch_size, ...)`; `t` is `(batch_size,)` (one time per sample, the same value
across the batch when a solver calls it). Extras (class labels, conditions) are keyword arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["AverageVelocityModel", "VelocityModel", "nfe_per_call"]


@runtime_checkable
class VelocityModel(Protocol):
    """v(x, t): the instantaneous velocity at x, time t (0 noise, 1 data); output shaped like x."""

    def __call__(self, x: Tensor, t: Tensor, **extras: Any) -> Tensor: ...


@runtime_checkable
class AverageVelocityModel(Protocol):
    """u(x, s, t): the average velocity over [s, t] of the flow through x at time s.

    Jumping from s to t is then one evaluation: x_t = x + (t - s) * u(x, s, t), and u(x, t, t) = v(x, t).
    (MeanFlow writes u(z_t, r, t) for the point at t and the jump back to r; here s is where x is.)
    """

    def __call__(self, x: Tensor, s: Tensor, t: Tensor, **extras: Any) -> Tensor: ...


def nfe_per_call(model: object) -> int:
    """Network evaluations one call of `model` costs: 1 for a network, more for guidance that calls it twice."""
    return int(getattr(model, "nfe_per_call", 1))
