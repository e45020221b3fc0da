"""Distances between point clouds against known values."""

from __future__ import annotations

import pytest
import torch

from aiflows.generative.metrics import exact_w2, mmd_rbf, sliced_w2


def test_shifted_clouds():
    a = torch.randn(600, 2, generator=torch.Generator().manual_seed(0))
    b = a + torch.tensor([3.0, 4.0])
    assert exact_w2(a, b) == pytest.approx(5.0, rel=1e-6)  # a pure shift costs exactly its length
    # sliced: projections of a shift by d have mean squared length |d|^2 / dim
    assert sliced_w2(a, b, projections=1000) == pytest.approx(5.0 / 2**0.5, rel=0.05)
    assert sliced_w2(a, a) == 0.0 and mmd_rbf(a, a) == pytest.approx(0.0, abs=1e-12)
    c = torch.randn(600, 2, generator=torch.Generator().manual_seed(1))
    assert mmd_rbf(a, c) < 0.01 < mmd_rbf(a, b)
