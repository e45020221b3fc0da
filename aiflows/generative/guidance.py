"""Guidance as velocity models that wrap a velocity model: they compose, and a solver counts their NFE.

Each wrapper takes the inner model first and answers v(x, t) itself, so
`ODESolver(FlowChefSteering(ClassifierFreeGuidance(net, 3.0), cost, 0.5))` is plain composition.
`nfe_per_call` says how many network evaluations one call costs (2 for classifier-free guidance).

- ClassifierFreeGuidance: v = v(x, t | null) + scale * (v(x, t | y) - v(x, t | null)); scale 1 is the
  conditional model, 0 the unconditional one.
- RewardGuidance: v + scale * grad_x r(x1_hat(x, t)), differentiating through the network (one backward).
- FlowChefSteering: v - scale * grad c(x1_hat) taken at the clean-data estimate x1_hat alone, with
  the network's output held fixed (FlowChef: steering in the vector field, no backward through the model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .paths import AffinePath, CondOTPath
from .types import VelocityModel, nfe_per_call

__all__ = ["ClassifierFreeGuidance", "FlowChefSteering", "RewardGuidance"]


class ClassifierFreeGuidance:
    """Classifier-free guidance over a class-conditional velocity model.

    Args:
        model: takes the condition as the keyword `label_key` (a `(batch_size,)` tensor of class ids).
        scale: the guidance scale w.
        null_label: the id the model was trained with for "no condition".
    """

    def __init__(self, model: VelocityModel, scale: float, *, null_label: int, label_key: str = "y") -> None:
        self.model = model
        self.scale = float(scale)
        self.null_label = null_label
        self.label_key = label_key
        self.nfe_per_call = 2 * nfe_per_call(model)

    def __call__(self, x: Tensor, t: Tensor, **extras: Any) -> Tensor:
        if self.label_key not in extras:
            raise TypeError(f"classifier-free guidance needs the condition as keyword '{self.label_key}'")
        v_cond = self.model(x, t, **extras)
        null = torch.full_like(extras[self.label_key], self.null_label)
        v_null = self.model(x, t, **{**extras, self.label_key: null})
        return v_null + self.scale * (v_cond - v_null)


class RewardGuidance:
    """Adds scale * grad_x r(x1_hat) to the velocity, r a differentiable reward of clean data `(batch_size,)`.

    x1_hat is the path's clean-data estimate from the velocity; the gradient goes through the network.
    """

    def __init__(
        self, model: VelocityModel, reward: Callable[[Tensor], Tensor], scale: float, *, path: AffinePath | None = None
    ) -> None:
        self.model = model
        self.reward = reward
        self.scale = float(scale)
        self.path = path or CondOTPath()
        self.nfe_per_call = nfe_per_call(model)

    def __call__(self, x: Tensor, t: Tensor, **extras: Any) -> Tensor:
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            v = self.model(x_in, t, **extras)
            x1_hat = self.path.velocity_to_x1(v, x_in, t)
            (grad,) = torch.autograd.grad(self.reward(x1_hat).sum(), x_in)
        return v.detach() + self.scale * grad


class FlowChefSteering:
    """FlowChef-style steering: v - scale * grad c(x1_hat), the gradient of a cost at the clean-data
    estimate with the velocity held fixed, so no backward pass through the network (cost `(batch_size,)`)."""

    def __init__(
        self, model: VelocityModel, cost: Callable[[Tensor], Tensor], scale: float, *, path: AffinePath | None = None
    ) -> None:
        self.model = model
        self.cost = cost
        self.scale = float(scale)
        self.path = path or CondOTPath()
        self.nfe_per_call = nfe_per_call(model)

    def __call__(self, x: Tensor, t: Tensor, **extras: Any) -> Tensor:
        v = self.model(x, t, **extras)
        with torch.enable_grad():
            x1_hat = self.path.velocity_to_x1(v.detach(), x, t).detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(self.cost(x1_hat).sum(), x1_hat)
        return v - self.scale * grad
