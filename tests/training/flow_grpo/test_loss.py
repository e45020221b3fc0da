"""The clipped objective, its gradient sign on both clip sides, k3 KL and the two aggregations."""

from __future__ import annotations

import math

import pytest
import torch

from training.flow_grpo import aggregate, clipped_loss, kl_k3


def _grad(ratio: float, adv: float) -> tuple[float, float, float]:
    old = torch.tensor([[0.0]])
    new = torch.tensor([[math.log(ratio)]], requires_grad=True)
    loss, frac = clipped_loss(new, old, torch.tensor([adv]), torch.ones(1, 1), clip_low=0.2, clip_high=0.3)
    loss.backward()
    assert new.grad is not None
    return float(loss.detach()), float(new.grad), float(frac)


def test_value_and_gradient_inside_the_clip() -> None:
    loss, grad, frac = _grad(1.1, 2.0)
    assert loss == pytest.approx(-2.2) and grad < 0 and frac == 0  # descending raises the token's probability
    loss, grad, frac = _grad(1.1, -2.0)
    assert loss == pytest.approx(2.2) and grad > 0 and frac == 0


def test_high_side_clips_positive_advantage() -> None:
    loss, grad, frac = _grad(1.5, 1.0)  # above 1 + 0.3: no more push up
    assert loss == pytest.approx(-1.3) and grad == 0 and frac == 1
    loss, grad, frac = _grad(1.25, 1.0)  # 0.3 above, not 0.2: still inside
    assert loss == pytest.approx(-1.25) and grad < 0 and frac == 0


def test_low_side_clips_negative_advantage() -> None:
    loss, grad, frac = _grad(0.7, -1.0)  # below 1 - 0.2: no more push down
    assert loss == pytest.approx(0.8) and grad == 0 and frac == 1
    # the other sides are never clipped (pessimistic bound): a large ratio with negative advantage keeps its gradient
    loss, grad, frac = _grad(1.5, -1.0)
    assert loss == pytest.approx(1.5) and grad > 0 and frac == 0
    loss, grad, frac = _grad(0.5, 1.0)
    assert loss == pytest.approx(-0.5) and grad < 0 and frac == 0


def test_k3_is_zero_at_the_reference_and_positive_elsewhere() -> None:
    logp = torch.log_softmax(torch.randn(3, 5), -1)
    assert torch.allclose(kl_k3(logp, logp), torch.zeros(3, 5))
    other = torch.log_softmax(torch.randn(3, 5), -1)
    assert bool((kl_k3(logp, other) >= 0).all()) and float(kl_k3(logp, other).sum()) > 0


def test_token_mean_against_per_trajectory_mean() -> None:
    values = torch.tensor([[1.0, 1.0, 1.0, 1.0], [3.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    assert float(aggregate(values, mask, "token_mean")) == pytest.approx(7 / 5)
    assert float(aggregate(values, mask, "seq_mean_token_mean")) == pytest.approx(2.0)
    weights = torch.tensor([1.0, 0.5])  # the second row's trajectory had two turns
    assert float(aggregate(values, mask, "seq_mean_token_mean", weights)) == pytest.approx((1 + 1.5) / 1.5)
