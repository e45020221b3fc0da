"""Log-likelihood through the divergence against closed forms."""

from __future__ import annotations

import torch

from aiflows.generative.likelihood import log_likelihood
from aiflows.generative.paths import CondOTPath, CosinePath, gaussian_velocity


def test_gaussian_log_likelihood_matches_its_closed_form():
    mean, std = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64), 0.5
    x1 = mean + std * torch.randn(64, 3, dtype=torch.float64)
    truth = torch.distributions.Normal(mean, std).log_prob(x1).sum(1)
    for path in (CondOTPath(), CosinePath()):
        out = log_likelihood(gaussian_velocity(path, mean, std), x1, method="rk4", steps=64)
        assert float((out.log_prob - truth).abs().max()) < 1e-4
        assert out.nfe == 64 * 4


def test_hutchinson_is_unbiased_on_a_non_diagonal_field():
    # v(x, t) = A x with A not symmetric: div v = trace(A) = 0.3; x1 = exp(A) x0, so log p1 is known
    a = torch.tensor([[0.5, 2.0], [-1.0, -0.2]], dtype=torch.float64)

    def model(x, t):
        return x @ a.T

    x1 = torch.randn(8, 2, dtype=torch.float64)
    exact = log_likelihood(model, x1, steps=32)
    x0 = x1 @ torch.linalg.matrix_exp(-a).T
    truth = torch.distributions.Normal(0.0, 1.0).log_prob(x0).sum(1) - torch.trace(a)
    assert float((exact.log_prob - truth).abs().max()) < 1e-6
    gen = torch.Generator().manual_seed(0)
    runs = torch.stack(
        [log_likelihood(model, x1, steps=4, divergence="hutchinson", generator=gen).log_prob for _ in range(200)]
    )
    one_probe_spread = float(runs.std(0).mean())
    assert one_probe_spread > 0.1  # a single probe is noisy here...
    assert float((runs.mean(0) - truth).abs().max()) < 5 * one_probe_spread / 200**0.5  # ...and right on average
