"""PNG pictures of a run: samples beside data (scatter for 2-D, a grid for images) and the loss curve."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = ["image_grid", "plot_curves", "plot_samples"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def image_grid(images: Tensor, rows: int) -> Tensor:
    """(n, 1, h, w) images in [-1, 1] tiled into one (rows * h, cols * w) picture in [0, 1]."""
    n, _, h, w = images.shape
    cols = -(-n // rows)
    grid = torch.ones(rows * h, cols * w)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = ((images[i, 0] + 1) / 2).clamp(0, 1)
    return grid


def plot_samples(samples: Tensor, data: Tensor, file: Path, *, labels: Tensor | None = None) -> Path:
    plt = _pyplot()
    if samples.dim() == 2:
        fig, axes = plt.subplots(1, 2, figsize=(8, 4), sharex=True, sharey=True)
        for ax, points, title in ((axes[0], data, "data"), (axes[1], samples, "samples")):
            ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
            ax.set_title(title)
    else:
        picked, rows = samples[:100], 10
        if labels is not None:  # one column per class
            per = min(10, len(samples) // max(1, int(labels.max()) + 1))
            classes = int(labels.max()) + 1
            picked = torch.stack([samples[labels == c][:per] for c in range(classes)], dim=1).reshape(
                -1, *samples.shape[1:]
            )
            rows = per
        fig, axes = plt.subplots(1, 2, figsize=(9, 4.5))
        axes[0].imshow(image_grid(data[:100], 10), cmap="gray")
        axes[0].set_title("data")
        axes[1].imshow(image_grid(picked, rows), cmap="gray")
        axes[1].set_title("samples")
        for ax in axes:
            ax.axis("off")
    fig.tight_layout()
    fig.savefig(file, dpi=80)
    plt.close(fig)
    return file


def plot_curves(losses: list[float], evals: list[dict[str, float]], file: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(losses) + 1), losses, lw=0.8, label="loss")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.legend(loc="upper right")
    if evals and "step" in evals[0]:
        twin = ax.twinx()
        twin.plot([e["step"] for e in evals], [e["sliced_w2"] for e in evals], "o-", color="C1", label="sliced W2")
        twin.legend(loc="upper center")
    fig.tight_layout()
    fig.savefig(file, dpi=80)
    plt.close(fig)
    return file
