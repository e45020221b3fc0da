"""Guidance transforms: CFG at scale 1 is the conditional model, steering moves samples, NFE counted."""

from __future__ import annotations

import torch

from aiflows.generative.guidance import ClassifierFreeGuidance, FlowChefSteering, RewardGuidance
from aiflows.generative.nets import NetConfig, build_net
from aiflows.generative.paths import CondOTPath, gaussian_velocity
from aiflows.generative.solvers import ODESolver

CENTERS = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])


def class_velocity(x, t, y):
    """Exact CondOT velocity to N(center_y, 0.1^2); label 3 ("no label") goes to N(0, 0.1^2)."""
    centers = torch.cat([CENTERS, torch.zeros(1, 2)])[y]
    std2 = (t**2 * 0.01 + (1 - t) ** 2)[:, None]
    return centers + (t * 0.01 - (1 - t))[:, None] / std2 * (x - t[:, None] * centers)


def test_cfg_scale_one_is_the_conditional_model_and_costs_two_nfe():
    torch.manual_seed(0)
    net = build_net(NetConfig(shape=[2], num_classes=3, hidden=32, depth=2))
    x, t, y = torch.randn(16, 2), torch.rand(16), torch.randint(0, 3, (16,))
    cfg = ClassifierFreeGuidance(net, 1.0, null_label=3)
    assert torch.allclose(cfg(x, t, y=y), net(x, t, y=y), atol=1e-6)
    assert torch.allclose(ClassifierFreeGuidance(net, 0.0, null_label=3)(x, t, y=y), net(x, t, y=torch.full_like(y, 3)))
    out = ODESolver(cfg).sample(x, method="heun", steps=5, y=y)
    assert out.nfe == 5 * 2 * 2


def test_cfg_pushes_samples_past_the_conditional_mean():
    y = torch.zeros(2000, dtype=torch.long)
    x0 = torch.randn(2000, 2, generator=torch.Generator().manual_seed(0))
    plain = ODESolver(class_velocity).sample(x0, method="midpoint", steps=32, y=y).x
    guided = (
        ODESolver(ClassifierFreeGuidance(class_velocity, 2.0, null_label=3))
        .sample(x0, method="midpoint", steps=32, y=y)
        .x
    )
    assert abs(float(plain[:, 0].mean()) - 3.0) < 0.05
    assert float(guided[:, 0].mean()) > 3.5  # extrapolates away from the unconditional mean


def test_reward_guidance_and_flowchef_steer_toward_the_target_and_compose():
    target = torch.tensor([1.0, 1.0])
    base = gaussian_velocity(CondOTPath(), torch.zeros(2), 1.0)  # N(0, I) to N(0, I): identity flow

    def reward(x1):
        return -((x1 - target) ** 2).sum(1)

    def cost(x1):
        return ((x1 - target) ** 2).sum(1)

    x0 = torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    plain = ODESolver(base).sample(x0, steps=20).x
    rg = ODESolver(RewardGuidance(base, reward, 0.5)).sample(x0, steps=20)
    fc = ODESolver(FlowChefSteering(base, cost, 0.5)).sample(x0, steps=20)
    both = ODESolver(FlowChefSteering(RewardGuidance(base, reward, 0.5), cost, 0.5)).sample(x0, steps=20)
    dist = {
        k: float((v - target).norm(dim=1).mean())
        for k, v in [("plain", plain), ("rg", rg.x), ("fc", fc.x), ("both", both.x)]
    }
    assert dist["rg"] < dist["plain"] - 0.3 and dist["fc"] < dist["plain"] - 0.3
    assert dist["both"] < min(dist["rg"], dist["fc"])
    assert rg.nfe == fc.nfe == both.nfe == 20
