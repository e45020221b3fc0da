"""MeanFlow and SplitMeanFlow: losses vanish at the true average velocity; 1-, 2-, k-step samplers."""

from __future__ import annotations

import pytest
import torch

from aiflows.generative.average import (
    AverageAsVelocity,
    AverageSampler,
    gaussian_average_velocity,
    meanflow_loss,
    splitmeanflow_loss,
)
from aiflows.generative.errors import NonFiniteVelocity, ShapeMismatch, StepsError
from aiflows.generative.nets import NetConfig, build_net
from aiflows.generative.paths import CondOTPath, CosinePath, gaussian_flow_map, gaussian_velocity
from aiflows.generative.solvers import ODESolver

MEAN, STD = torch.tensor([2.0, -1.0], dtype=torch.float64), 0.5


def _batch(path, n=256):
    gen = torch.Generator().manual_seed(0)
    a, b = torch.rand(n, generator=gen, dtype=torch.float64), torch.rand(n, generator=gen, dtype=torch.float64)
    s, t = torch.minimum(a, b), torch.maximum(a, b)
    s[:32] = t[:32]  # some rows with s == t: the flow-matching boundary
    x0 = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    x_s = gaussian_flow_map(path, MEAN, STD, x0, torch.zeros(n, dtype=torch.float64), s)
    m = s + torch.rand(n, generator=gen, dtype=torch.float64) * (t - s)
    return x_s, s, m, t, gaussian_velocity(path, MEAN, STD)(x_s, s)


def test_losses_vanish_at_the_true_average_velocity_and_not_elsewhere():
    for path in (CondOTPath(), CosinePath()):
        u = gaussian_average_velocity(path, MEAN, STD)
        x_s, s, m, t, v = _batch(path)
        instant = s == t
        assert float(meanflow_loss(u, x_s, s, t, v).max()) < 1e-20
        assert float(splitmeanflow_loss(u, x_s, s, m, t, v, instant).max()) < 1e-20

        def wrong(x, s_, t_, u=u):
            return u(x, s_, t_) + 0.1 * (t_ - s_)[:, None] * x  # right at s == t, wrong elsewhere

        assert float(meanflow_loss(wrong, x_s, s, t, v).mean()) > 1e-4
        assert float(splitmeanflow_loss(wrong, x_s, s, m, t, v, instant).mean()) > 1e-5


def test_meanflow_loss_trains_a_network_through_one_jvp():
    torch.manual_seed(0)
    net = build_net(NetConfig(kind="average", shape=[2], hidden=32, depth=2)).double()
    x_s, s, _, t, v = _batch(CondOTPath(), n=64)
    loss = meanflow_loss(net, x_s, s, t, v, adaptive_power=1.0).mean()
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(float(g.abs().sum()) > 0 for g in grads)


def test_one_two_and_k_step_samplers_land_on_the_flow_map():
    path = CosinePath()
    u = gaussian_average_velocity(path, MEAN, STD)
    x0 = torch.randn(500, 2, dtype=torch.float64)
    exact = gaussian_flow_map(
        path, MEAN, STD, x0, torch.zeros(500, dtype=torch.float64), torch.ones(500, dtype=torch.float64)
    )
    for steps in (1, 2, 5):
        out = AverageSampler(u).sample(x0, steps=steps)
        assert out.nfe == steps
        assert float((out.x - exact).abs().max()) < 1e-10
    # the same network as an instantaneous velocity: the ODE solvers run it too
    ode = ODESolver(AverageAsVelocity(u)).sample(x0, method="rk4", steps=64)
    assert float((ode.x - exact).abs().max()) < 1e-5


def test_average_sampler_bad_models_name_the_step_and_the_shape():
    def nan_late(x, s, t):
        return torch.where(s[:, None] >= 0.5, torch.nan, 1.0) * torch.ones_like(x)

    with pytest.raises(NonFiniteVelocity, match="at step 2 .t=0.5") as info:
        AverageSampler(nan_late).sample(torch.zeros(3, 2), steps=4)
    assert info.value.step == 2
    with pytest.raises(ShapeMismatch, match=r"shape \(3, 1\), expected \(3, 2\)"):
        AverageSampler(lambda x, s, t: torch.zeros(3, 1)).sample(torch.zeros(3, 2), steps=1)
    with pytest.raises(StepsError):
        AverageSampler(nan_late).sample(torch.zeros(3, 2), steps=0)
