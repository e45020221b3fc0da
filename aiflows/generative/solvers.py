"""ODE solvers for velocity models: fixed-grid Euler, midpoint, Heun and RK4 written here, dopri5 through torchdiffeq.

The model goes in the constructor; `sample` takes the starting point and how to integrate. The
time grid sets the direction: `[0, 1]` (the default) carries noise to data, `[1, 0]` carries data
back to noise (inversion). Fixed-grid methods cost exactly `steps * stages` network evaluations
(1 Euler, 2 midpoint, 2 Heun, 4 RK4 and RK4 3/8), reported as `nfe`, times what guidance adds per call.

    solver = ODESolver(model)
    out = solver.sample(torch.randn(64, 2), method="heun", steps=8)   # out.x, out.nfe == 16
    back = solver.sample(out.x, method="heun", steps=8, time_grid=torch.tensor([1.0, 0.0]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .errors import NonFiniteVelocity, ShapeMismatch, StepsError, UnknownSolver
from .types import VelocityModel, nfe_per_call

__all__ = ["FIXED_GRID", "SOLVERS", "ODESolver", "SampleResult", "fixed_step", "make_grid"]

Field = Callable[[Tensor, float], Tensor]  # f(x, t); times and steps are Python floats (no 0-d tensor ops)


def _euler(f: Field, x: Tensor, t: float, h: float) -> Tensor:
    return x + h * f(x, t)


def _midpoint(f: Field, x: Tensor, t: float, h: float) -> Tensor:
    k1 = f(x, t)
    return x + h * f(x + 0.5 * h * k1, t + 0.5 * h)


def _heun(f: Field, x: Tensor, t: float, h: float) -> Tensor:
    k1 = f(x, t)
    k2 = f(x + h * k1, t + h)
    return x + 0.5 * h * (k1 + k2)


def _rk4(f: Field, x: Tensor, t: float, h: float) -> Tensor:
    k1 = f(x, t)
    k2 = f(x + 0.5 * h * k1, t + 0.5 * h)
    k3 = f(x + 0.5 * h * k2, t + 0.5 * h)
    k4 = f(x + h * k3, t + h)
    return x + (h / 6) * (k1 + 2 * (k2 + k3) + k4)


def _rk4_38(f: Field, x: Tensor, t: float, h: float) -> Tensor:
    """Kutta's 3/8 rule (what torchdiffeq calls "rk4"): fourth order, nodes at thirds."""
    k1 = f(x, t)
    k2 = f(x + (h / 3) * k1, t + h / 3)
    k3 = f(x + h * k2 - (h / 3) * k1, t + 2 * h / 3)
    k4 = f(x + h * (k1 - k2 + k3), t + h)
    return x + (h / 8) * (k1 + 3 * (k2 + k3) + k4)


# In-place variants for sampling without autograd: x is the solver's own state (updated in place),
# `stage` and `acc` its two scratch buffers; model outputs are read, never written.


class _Scratch:
    def __init__(self, x: Tensor) -> None:
        self.stage = torch.empty_like(x)
        self.acc = torch.empty_like(x)
        self.ptrs = {x.untyped_storage().data_ptr(), self.stage.untyped_storage().data_ptr()}
        self.ptrs.add(self.acc.untyped_storage().data_ptr())

    def own(self, v: Tensor) -> Tensor:
        """v, copied if the model handed back one of our buffers (or a view of one), which we overwrite later."""
        return v.clone() if v.untyped_storage().data_ptr() in self.ptrs else v


def _euler_(f: Field, x: Tensor, t: float, h: float, b: _Scratch) -> None:
    x.add_(b.own(f(x, t)), alpha=h)


def _midpoint_(f: Field, x: Tensor, t: float, h: float, b: _Scratch) -> None:
    k1 = b.own(f(x, t))
    x.add_(b.own(f(torch.add(x, k1, alpha=0.5 * h, out=b.stage), t + 0.5 * h)), alpha=h)


def _heun_(f: Field, x: Tensor, t: float, h: float, b: _Scratch) -> None:
    k1 = b.own(f(x, t))
    k2 = b.own(f(torch.add(x, k1, alpha=h, out=b.stage), t + h))
    x.add_(torch.add(k1, k2, out=b.acc), alpha=0.5 * h)


def _rk4_(f: Field, x: Tensor, t: float, h: float, b: _Scratch) -> None:
    k1 = b.own(f(x, t))
    k2 = b.own(f(torch.add(x, k1, alpha=0.5 * h, out=b.stage), t + 0.5 * h))
    acc = torch.add(k1, k2, alpha=2, out=b.acc)
    k3 = b.own(f(torch.add(x, k2, alpha=0.5 * h, out=b.stage), t + 0.5 * h))
    acc.add_(k3, alpha=2)
    acc.add_(b.own(f(torch.add(x, k3, alpha=h, out=b.stage), t + h)))
    x.add_(acc, alpha=h / 6)


def _rk4_38_(f: Field, x: Tensor, t: float, h: float, b: _Scratch) -> None:
    k1 = b.own(f(x, t))
    k2 = b.own(f(torch.add(x, k1, alpha=h / 3, out=b.stage), t + h / 3))
    acc = torch.add(k1, k2, alpha=3, out=b.acc)
    k3 = b.own(f(torch.add(x, k2, alpha=h, out=b.stage).sub_(k1, alpha=h / 3), t + 2 * h / 3))
    acc.add_(k3, alpha=3)
    stage = torch.add(x, k1, alpha=h, out=b.stage).sub_(k2, alpha=h).add_(k3, alpha=h)
    acc.add_(b.own(f(stage, t + h)))
    x.add_(acc, alpha=h / 8)


Rule = Callable[[Field, Tensor, float, float], Tensor]
InPlaceRule = Callable[[Field, Tensor, float, float, _Scratch], None]

# name -> (step rule, network evaluations per step)
FIXED_GRID: dict[str, tuple[Rule, int]] = {
    "euler": (_euler, 1),
    "midpoint": (_midpoint, 2),
    "heun": (_heun, 2),
    "rk4": (_rk4, 4),
    "rk4_38": (_rk4_38, 4),
}
_IN_PLACE: dict[str, InPlaceRule] = {
    "euler": _euler_,
    "midpoint": _midpoint_,
    "heun": _heun_,
    "rk4": _rk4_,
    "rk4_38": _rk4_38_,
}
ADAPTIVE = ("dopri5",)
SOLVERS = (*FIXED_GRID, *ADAPTIVE)


def fixed_step(method: str, f: Field, x: Tensor, t: float, h: float) -> Tensor:
    """One step of a fixed-grid method from (x, t) over h (negative h integrates backwards)."""
    if method not in FIXED_GRID:
        raise UnknownSolver(method, list(FIXED_GRID))
    return FIXED_GRID[method][0](f, x, t, h)


def make_grid(
    steps: int | None, time_grid: Tensor | None, *, like: Tensor, start: float = 0.0, end: float = 1.0
) -> Tensor:
    """The time grid: `time_grid` refined into `steps` equal steps per interval, or `steps` steps over [start, end]."""
    if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
        raise StepsError(f"steps must be an integer >= 1, got {steps!r}")
    if time_grid is None:
        time_grid = torch.tensor([start, end])
    grid = time_grid.to(device=like.device, dtype=like.dtype if like.is_floating_point() else torch.float32)
    if grid.dim() != 1 or grid.numel() < 2:
        raise StepsError(f"time_grid must be 1-D with at least two times, got shape {tuple(grid.shape)}")
    diffs = grid[1:] - grid[:-1]
    if not (bool((diffs > 0).all()) or bool((diffs < 0).all())):
        raise StepsError(f"time_grid must be strictly increasing or strictly decreasing: {grid.tolist()}")
    if steps is None:
        return grid
    if grid.numel() > 2:
        if steps != grid.numel() - 1:
            raise StepsError(f"time_grid has {grid.numel() - 1} steps but steps={steps}; give one or the other")
        return grid
    return torch.linspace(float(grid[0]), float(grid[1]), steps + 1, device=grid.device, dtype=grid.dtype)


@dataclass
class SampleResult:
    """The end point `x` (shaped like the start), network evaluations used, and the states on the grid if asked."""

    x: Tensor
    nfe: int
    trajectory: list[Tensor] = field(default_factory=list)


class _Counted:
    """The model as f(x, t) for a solver: expands t to the batch, checks the shape, counts calls.

    Without autograd one time tensor is refilled for every call (with autograd each call gets its own,
    since the graph may keep it)."""

    def __init__(self, model: VelocityModel, extras: dict[str, Any], per_call: int, *, reuse_times: bool) -> None:
        self.model = model
        self.extras = extras
        self.per_call = per_call
        self.calls = 0
        self.reuse_times = reuse_times
        self.times: Tensor | None = None

    def __call__(self, x: Tensor, t: float | Tensor) -> Tensor:
        self.calls += 1
        times = self.times
        if times is None or not self.reuse_times:
            times = self.times = torch.full((x.shape[0],), float(t), dtype=x.dtype, device=x.device)
        else:
            times.fill_(float(t))
        v = self.model(x, times, **self.extras)
        if v.shape != x.shape:
            raise ShapeMismatch(tuple(x.shape), tuple(v.shape), where=type(self.model).__name__)
        return v

    @property
    def nfe(self) -> int:
        return self.calls * self.per_call


class ODESolver:
    """Integrates dx/dt = model(x, t) over a time grid (t = 0 noise, t = 1 data).

    Args:
        model: a `VelocityModel`; guidance transforms are velocity models too.
    """

    def __init__(self, model: VelocityModel) -> None:
        self.model = model

    def sample(
        self,
        x_init: Tensor,
        *,
        method: str = "euler",
        steps: int | None = None,
        time_grid: Tensor | None = None,
        atol: float = 1e-5,
        rtol: float = 1e-5,
        enable_grad: bool = False,
        return_trajectory: bool = False,
        check_finite: bool = True,
        **model_extras: Any,
    ) -> SampleResult:
        """Solve from `x_init` (`(batch_size, ...)`) at `time_grid[0]` to `time_grid[-1]`.

        Args:
            method: one of `SOLVERS` ("euler", "midpoint", "heun", "rk4" (classic), "rk4_38" (Kutta's 3/8 rule,
                torchdiffeq's "rk4"), "dopri5").
            steps: equal steps over the grid's two ends (fixed-grid methods; required unless time_grid has more times).
            time_grid: times to pass through, increasing or decreasing; `[0, 1]` when None.
            atol, rtol: tolerances of dopri5.
            enable_grad: keep the autograd graph (for guidance through the sampler or training through it).
            return_trajectory: also return the state at every grid time.
            check_finite: stop with `NonFiniteVelocity` at the first step whose state is NaN or inf.
            model_extras: passed to every model call (class labels, conditions).

        Raises:
            UnknownSolver, StepsError, ShapeMismatch, NonFiniteVelocity.
        """
        if method not in SOLVERS:
            raise UnknownSolver(method, list(SOLVERS))
        if method in FIXED_GRID and steps is None and (time_grid is None or time_grid.numel() <= 2):
            raise StepsError(f"method '{method}' integrates on a fixed grid: give steps (>= 1) or a time_grid")
        grid = make_grid(steps if method in FIXED_GRID else None, time_grid, like=x_init)
        f = _Counted(self.model, model_extras, nfe_per_call(self.model), reuse_times=not enable_grad)
        with torch.set_grad_enabled(enable_grad):
            if method in FIXED_GRID:
                x, trajectory = self._fixed(method, f, x_init, grid, check_finite, return_trajectory)
            else:
                x, trajectory = self._adaptive(method, f, x_init, grid, atol, rtol, check_finite)
        return SampleResult(x=x, nfe=f.nfe, trajectory=trajectory if return_trajectory else [])

    @staticmethod
    def _fixed(
        method: str, f: _Counted, x: Tensor, grid: Tensor, check_finite: bool, keep: bool
    ) -> tuple[Tensor, list[Tensor]]:
        times = grid.tolist()
        trajectory = [x] if keep else []
        in_place = not torch.is_grad_enabled()  # then the state and stage inputs live in our own buffers
        rule, rule_ = FIXED_GRID[method][0], _IN_PLACE[method]
        if in_place:
            x = x.clone()  # the caller's start stays as it was
            scratch = _Scratch(x)
        for i in range(len(times) - 1):
            t, h = times[i], times[i + 1] - times[i]
            if in_place:
                rule_(f, x, t, h, scratch)
            else:
                x = rule(f, x, t, h)
            if check_finite and not bool(torch.isfinite(x).all()):  # one device sync per step
                raise NonFiniteVelocity(step=i, t=t)
            if keep:
                trajectory.append(x.clone() if in_place else x)
        return x, trajectory

    @staticmethod
    def _adaptive(
        method: str, f: _Counted, x: Tensor, grid: Tensor, atol: float, rtol: float, check_finite: bool
    ) -> tuple[Tensor, list[Tensor]]:
        from torchdiffeq import odeint

        def field(t: Tensor, y: Tensor) -> Tensor:
            v = f(y, t)
            if check_finite and not bool(torch.isfinite(v).all()):
                raise NonFiniteVelocity(step=f.calls - 1, t=float(t), what="velocity (dopri5 evaluation)")
            return v

        states = odeint(field, x, grid, method=method, atol=atol, rtol=rtol)
        return states[-1], list(states)
