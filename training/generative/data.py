"""Training data: three 2-D toys drawn fresh every batch, and scikit-learn's bundled 8x8 digits (no download).

Each dataset returns (x, labels): x is `(n, 2)` or `(n, 1, 8, 8)` in [-1, 1]; labels are ints in
[0, num_classes) (the toys label a point by its mode or square: usable for class-conditional runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import torch
from torch import Tensor

__all__ = ["Dataset", "dataset"]


@dataclass(frozen=True)
class Dataset:
    name: str
    shape: tuple[int, ...]
    num_classes: int

    def sample(self, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        return _SAMPLERS[self.name](n, generator)


def _eight_gaussians(n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    labels = torch.randint(0, 8, (n,), generator=gen)
    angles = labels.float() * (2 * math.pi / 8)
    centers = 2.0 * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1)
    return centers + 0.1 * torch.randn(n, 2, generator=gen), labels


def _moons(n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    labels = torch.randint(0, 2, (n,), generator=gen)
    angle = math.pi * torch.rand(n, generator=gen)
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], dim=1)
    x = torch.where(labels[:, None] == 0, upper, lower) + 0.05 * torch.randn(n, 2, generator=gen)
    return (x - torch.tensor([0.5, 0.25])) * 1.5, labels


def _checkerboard(n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    # 4x4 board on [-2, 2]^2, points on the 8 dark squares
    square = torch.randint(0, 8, (n,), generator=gen)
    row = square // 2
    col = 2 * (square % 2) + (row % 2)
    offset = torch.rand(n, 2, generator=gen)
    x = torch.stack([col.float() + offset[:, 0], row.float() + offset[:, 1]], dim=1) - 2.0
    return x, square


@cache
def _digits() -> tuple[Tensor, Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).reshape(-1, 1, 8, 8) / 8.0 - 1.0  # 0..16 -> -1..1
    return images, torch.tensor(bunch.target, dtype=torch.long)


def _digit_batch(n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    images, labels = _digits()
    index = torch.randint(0, len(images), (n,), generator=gen)
    return images[index], labels[index]


_SAMPLERS = {"8gaussians": _eight_gaussians, "moons": _moons, "checkerboard": _checkerboard, "digits": _digit_batch}
_SHAPES = {"8gaussians": ((2,), 8), "moons": ((2,), 2), "checkerboard": ((2,), 8), "digits": ((1, 8, 8), 10)}


def dataset(name: str) -> Dataset:
    shape, classes = _SHAPES[name]
    return Dataset(name, shape, classes)
