"""Solvers against flows with closed-form solutions: order of accuracy, NFE, inversion, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from aiflows.generative import (
    NonFiniteVelocity,
    ODESolver,
    ShapeMismatch,
    StepsError,
    UnknownSolver,
)
from aiflows.generative.paths import CondOTPath, CosinePath, VPPath, gaussian_flow_map, gaussian_velocity

MEAN = torch.tensor([2.0, -1.0], dtype=torch.float64)
STD = 0.3


def _exact_end(path, x0, end):
    n = len(x0)
    return gaussian_flow_map(path, MEAN, STD, x0, torch.zeros(n, dtype=x0.dtype), torch.full((n,), end, dtype=x0.dtype))


@pytest.mark.parametrize(
    ("method", "order", "stages"),
    [("euler", 1, 1), ("midpoint", 2, 2), ("heun", 2, 2), ("rk4", 4, 4), ("rk4_38", 4, 4)],
)
@pytest.mark.parametrize("path", [CosinePath(), VPPath()], ids=["cosine", "vp"])
def test_order_of_accuracy_on_step_halving(method, order, stages, path):
    x0 = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    end = 0.999  # the VP path's velocity is singular exactly at t = 1
    exact = _exact_end(path, x0, end)
    grid = torch.tensor([0.0, end], dtype=torch.float64)
    errors = []
    for steps in (32, 64, 128):
        out = ODESolver(gaussian_velocity(path, MEAN, STD)).sample(x0, method=method, steps=steps, time_grid=grid)
        assert out.nfe == steps * stages
        errors.append(float((out.x - exact).abs().max()))
    observed = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    assert all(order - 0.35 < o < order + 0.8 for o in observed), (method, errors, observed)


def test_dopri5_through_torchdiffeq_reaches_the_exact_solution():
    path = CondOTPath()
    x0 = torch.randn(128, 2, dtype=torch.float64)
    out = ODESolver(gaussian_velocity(path, MEAN, STD)).sample(x0, method="dopri5", atol=1e-9, rtol=1e-9)
    assert float((out.x - _exact_end(path, x0, 1.0)).abs().max()) < 1e-6
    assert out.nfe > 6  # adaptive: counted as it goes, at least one step of six stages


def test_inversion_round_trip():
    model = gaussian_velocity(CosinePath(), MEAN, STD)
    x0 = torch.randn(100, 2, dtype=torch.float64)
    solver = ODESolver(model)
    forward = solver.sample(x0, method="rk4", steps=64, time_grid=torch.tensor([0.0, 0.999], dtype=torch.float64))
    back = solver.sample(forward.x, method="rk4", steps=64, time_grid=torch.tensor([0.999, 0.0], dtype=torch.float64))
    assert float((back.x - x0).abs().max()) < 1e-7


def test_noise_goes_to_the_data_distribution_and_trajectory_is_kept():
    x0 = torch.randn(20000, 2, generator=torch.Generator().manual_seed(1))
    out = ODESolver(gaussian_velocity(CondOTPath(), MEAN.float(), STD)).sample(
        x0, method="midpoint", steps=16, return_trajectory=True
    )
    assert torch.allclose(out.x.mean(0), MEAN.float(), atol=0.02)
    assert torch.allclose(out.x.std(0), torch.tensor([STD, STD]), atol=0.01)
    assert len(out.trajectory) == 17 and out.trajectory[0] is x0


def test_extras_reach_the_model_and_batch_times():
    seen = {}

    def model(x, t, y):
        seen["t"], seen["y"] = t, y
        return torch.zeros_like(x)

    ODESolver(model).sample(torch.zeros(5, 3), steps=2, y=torch.arange(5))
    assert seen["t"].shape == (5,) and float(seen["t"][0]) == 0.5 and seen["y"].tolist() == [0, 1, 2, 3, 4]


def test_bad_input_gets_typed_errors():
    solver = ODESolver(lambda x, t: torch.zeros_like(x))
    x = torch.zeros(4, 2)
    with pytest.raises(UnknownSolver, match="unknown solver 'rk45'.*dopri5"):
        solver.sample(x, method="rk45", steps=4)
    for steps in (0, -1):
        with pytest.raises(StepsError, match="steps must be an integer >= 1"):
            solver.sample(x, method="euler", steps=steps)
    with pytest.raises(StepsError, match="give steps"):
        solver.sample(x, method="euler")
    with pytest.raises(StepsError, match="strictly"):
        solver.sample(x, method="euler", time_grid=torch.tensor([0.0, 0.5, 0.2]))
    with pytest.raises(ShapeMismatch, match=r"shape \(4, 3\), expected \(4, 2\)"):
        ODESolver(lambda x, t: torch.zeros(4, 3)).sample(x, steps=2)


def test_nan_in_the_velocity_stops_at_its_step():
    def model(x, t):
        return torch.where(t[:, None] >= 0.5, torch.nan, 1.0) * torch.ones_like(x)

    with pytest.raises(NonFiniteVelocity, match="at step 2 .t=0.5") as info:
        ODESolver(model).sample(torch.zeros(3, 2), method="euler", steps=4)
    assert info.value.step == 2


FIXED = ("euler", "midpoint", "heun", "rk4", "rk4_38")


@pytest.mark.parametrize("method", FIXED)
def test_in_place_sampling_equals_the_autograd_path_and_leaves_the_start_alone(method):
    field = gaussian_velocity(CosinePath(), MEAN, STD)
    x0 = torch.randn(32, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    start = x0.clone()
    plain = ODESolver(field).sample(x0, method=method, steps=8, enable_grad=True, return_trajectory=True)
    fast = ODESolver(field).sample(x0, method=method, steps=8, return_trajectory=True)
    assert torch.equal(x0, start)
    assert fast.nfe == plain.nfe
    torch.testing.assert_close(fast.x, plain.x, rtol=0, atol=1e-12)
    assert len(fast.trajectory) == 9 and fast.trajectory[0] is x0
    for a, b in zip(fast.trajectory, plain.trajectory, strict=True):  # each state its own tensor, not the buffer
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", FIXED)
def test_a_model_that_returns_its_input_or_a_kept_tensor_is_not_overwritten(method):
    """dx/dt = x (the model hands back the solver's own buffer) and dx/dt = c (the same tensor every call)."""
    x0 = torch.ones(4, 2, dtype=torch.float64)
    grown = ODESolver(lambda x, t: x).sample(x0, method=method, steps=64)
    reference = ODESolver(lambda x, t: x.clone()).sample(x0, method=method, steps=64, enable_grad=True)
    torch.testing.assert_close(grown.x, reference.x, rtol=1e-12, atol=0)
    assert abs(float(grown.x[0, 0]) - math.e) < 0.05
    const = torch.full((4, 2), 2.0, dtype=torch.float64)
    moved = ODESolver(lambda x, t: const).sample(x0, method=method, steps=4)
    assert torch.equal(const, torch.full((4, 2), 2.0, dtype=torch.float64))
    torch.testing.assert_close(moved.x, x0 + 2.0)


@pytest.mark.parametrize(("ours", "theirs"), [("euler", "euler"), ("midpoint", "midpoint"), ("rk4_38", "rk4")])
def test_fixed_grid_solvers_match_torchdiffeq_on_the_same_method(ours, theirs):
    from torchdiffeq import odeint

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2))

    def model(x, t):
        return net(torch.cat([x, t[:, None]], dim=1))

    x0 = torch.randn(128, 2)
    with torch.no_grad():
        mine = ODESolver(model).sample(x0, method=ours, steps=16).x
        other = odeint(lambda t, x: model(x, t.expand(len(x))), x0, torch.tensor([0.0, 1.0]), method=theirs,
                       options={"step_size": 1 / 16})[-1]  # fmt: skip
    assert float((mine - other).abs().max()) < 1e-5


def test_time_tensor_with_autograd_is_fresh_per_call():
    """With autograd the graph may keep t: refilling one tensor would break backward."""
    w = torch.tensor(1.5, requires_grad=True)
    out = ODESolver(lambda x, t: w * x * t[:, None]).sample(torch.ones(3, 2), method="rk4", steps=4, enable_grad=True)
    (grad,) = torch.autograd.grad(out.x.sum(), w)
    assert torch.isfinite(grad) and float(grad) > 0


@pytest.mark.parametrize("method", [*FIXED, "dopri5"])
def test_nan_stops_every_solver_and_names_where(method):
    def model(x, t):
        return torch.where(t[:, None] >= 0.5, torch.nan, 1.0) * torch.ones_like(x)

    steps = None if method == "dopri5" else 4
    with pytest.raises(NonFiniteVelocity, match=r"at step \d+ \(t=") as info:
        ODESolver(model).sample(torch.zeros(3, 2), method=method, steps=steps)
    if method == "dopri5":  # the step is the evaluation, t its time
        assert info.value.t >= 0.5 and "dopri5 evaluation" in str(info.value)
    else:  # the step whose interval reaches t = 0.5, where the velocity turns NaN
        assert info.value.t <= 0.5 <= info.value.t + 0.25 and info.value.step == round(info.value.t * 4)
