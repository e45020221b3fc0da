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
    ("method", "order", "stages"), [("euler", 1, 1), ("midpoint", 2, 2), ("heun", 2, 2), ("rk4", 4, 4)]
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
