"""Affine probability paths x_t = alpha_t * x_1 + sigma_t * x_0 (x_0 noise, x_1 data, t in [0, 1]).

A path gives training targets (`sample`) and converts between what a network may predict
(velocity, clean data, noise). Three schedules: conditional OT (straight lines), variance
preserving (the DDPM schedule in continuous time) and cosine.

    path = CondOTPath()
    sample = path.sample(x0=torch.randn_like(x1), x1=x1, t=torch.rand(len(x1)))
    loss = ((model(sample.x_t, t) - sample.dx_t) ** 2).mean()
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["AffinePath", "CondOTPath", "CosinePath", "PathSample", "VPPath", "gaussian_velocity", "gaussian_flow_map"]


@dataclass
class PathSample:
    """A point on the path and its conditional velocity, all `(batch_size, ...)`; `t` is `(batch_size,)`."""

    x_t: Tensor
    dx_t: Tensor
    t: Tensor
    x0: Tensor
    x1: Tensor


def _expand(t: Tensor, like: Tensor) -> Tensor:
    assert t.dim() == 1 and t.shape[0] == like.shape[0], f"t must be (batch_size,), got {tuple(t.shape)}"
    return t.view(-1, *([1] * (like.dim() - 1)))


class AffinePath(ABC):
    """alpha(t) grows from 0 to 1, sigma(t) falls from 1 to 0; subclasses give both and their derivatives."""

    @abstractmethod
    def coefficients(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(alpha_t, sigma_t, d alpha/dt, d sigma/dt) at times `t`."""

    def sample(self, x0: Tensor, x1: Tensor, t: Tensor) -> PathSample:
        assert x0.shape == x1.shape, f"x0 {tuple(x0.shape)} and x1 {tuple(x1.shape)} must match"
        a, s, da, ds = (_expand(c, x1) for c in self.coefficients(t))
        return PathSample(x_t=a * x1 + s * x0, dx_t=da * x1 + ds * x0, t=t, x0=x0, x1=x1)

    def velocity_to_x1(self, v: Tensor, x_t: Tensor, t: Tensor) -> Tensor:
        """The clean-data estimate E[x_1 | x_t] implied by a velocity (exact for the marginal velocity)."""
        a, s, da, ds = (_expand(c, x_t) for c in self.coefficients(t))
        return (s * v - ds * x_t) / (s * da - ds * a)

    def velocity_to_x0(self, v: Tensor, x_t: Tensor, t: Tensor) -> Tensor:
        """The noise estimate E[x_0 | x_t] implied by a velocity."""
        a, s, da, ds = (_expand(c, x_t) for c in self.coefficients(t))
        return (da * x_t - a * v) / (s * da - ds * a)

    def x0_to_velocity(self, x0: Tensor, x_t: Tensor, t: Tensor) -> Tensor:
        """The velocity implied by a noise (epsilon) prediction: how diffusion networks are used as flows."""
        a, s, da, ds = (_expand(c, x_t) for c in self.coefficients(t))
        return da / a * (x_t - s * x0) + ds * x0


class CondOTPath(AffinePath):
    """Straight lines: alpha_t = t, sigma_t = 1 - t (rectified flow, conditional OT)."""

    def coefficients(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return t, 1 - t, torch.ones_like(t), -torch.ones_like(t)


class CosinePath(AffinePath):
    """alpha_t = sin(pi t / 2), sigma_t = cos(pi t / 2): variance preserving with a cosine schedule."""

    def coefficients(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        h = math.pi / 2
        return torch.sin(h * t), torch.cos(h * t), h * torch.cos(h * t), -h * torch.sin(h * t)


class VPPath(AffinePath):
    """The variance-preserving (DDPM) path in continuous time with a linear beta from beta_min to beta_max.

    With T(s) = beta_min * s + (beta_max - beta_min) * s^2 / 2 and s = 1 - t:
    alpha_t = exp(-T(s) / 2), sigma_t = sqrt(1 - alpha_t^2). At t = 0 alpha is exp(-T(1)/2), near 0, not 0.
    """

    def __init__(self, beta_min: float = 0.1, beta_max: float = 20.0) -> None:
        self.beta_min = beta_min
        self.beta_max = beta_max

    def coefficients(self, t: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        s = 1 - t
        big_t = self.beta_min * s + 0.5 * (self.beta_max - self.beta_min) * s**2
        d_big_t_dt = -(self.beta_min + (self.beta_max - self.beta_min) * s)
        alpha = torch.exp(-0.5 * big_t)
        d_alpha = -0.5 * d_big_t_dt * alpha
        sigma = torch.sqrt(1 - alpha**2)
        d_sigma = -alpha * d_alpha / sigma
        return alpha, sigma, d_alpha, d_sigma


def _gaussian_std(path: AffinePath, t: Tensor, data_std: float) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    a, s, da, ds = path.coefficients(t)
    std = torch.sqrt(a**2 * data_std**2 + s**2)
    d_std = (a * da * data_std**2 + s * ds) / std
    return a, da, std, d_std


def gaussian_velocity(path: AffinePath, mean: Tensor, data_std: float) -> Callable[..., Tensor]:
    """The exact marginal velocity of `path` from N(0, I) noise to N(mean, data_std^2 I) data.

    p_t is N(alpha_t mean, std_t^2 I) with std_t^2 = alpha_t^2 data_std^2 + sigma_t^2, and the field
    v(x, t) = alpha'_t mean + (std'_t / std_t)(x - alpha_t mean) moves it; used to test solvers,
    likelihoods and samplers against closed forms.
    """

    def velocity(x: Tensor, t: Tensor, **_: object) -> Tensor:
        a, da, std, d_std = (_expand(c, x) for c in _gaussian_std(path, t, data_std))
        return da * mean + d_std / std * (x - a * mean)

    return velocity


def gaussian_flow_map(path: AffinePath, mean: Tensor, data_std: float, x: Tensor, s: Tensor, t: Tensor) -> Tensor:
    """Where the flow of `gaussian_velocity` carries x from time s to time t (its exact solution)."""
    a_s, _, std_s, _ = (_expand(c, x) for c in _gaussian_std(path, s, data_std))
    a_t, _, std_t, _ = (_expand(c, x) for c in _gaussian_std(path, t, data_std))
    return a_t * mean + std_t / std_s * (x - a_s * mean)
