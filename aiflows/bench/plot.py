"""The report's plot: panels of bars (pass@k, pass@1 per group), each bar with its bootstrap interval.

It draws plain values it is handed, so it knows nothing of the report that calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .metrics import Estimate

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Bars", "plot_bars"]

log = logging.getLogger("aiflows.bench")


@dataclass(frozen=True)
class Bars:
    """One panel: a bar per label, with the estimate's interval as its error bar."""

    labels: list[str]
    estimates: list[Estimate]
    xlabel: str
    ylabel: str


def plot_bars(path: Path, title: str, panels: Sequence[Bars]) -> Path | None:
    """Draw `panels` side by side into a PNG at `path`; None (and a log line) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display is needed or wanted
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), constrained_layout=True, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        _bars(ax, panel)
    fig.suptitle(title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _bars(ax: Axes, panel: Bars) -> None:
    values = [100 * e.value for e in panel.estimates]
    below = [100 * (e.value - e.low) for e in panel.estimates]
    above = [100 * (e.high - e.value) for e in panel.estimates]
    ax.bar(range(len(values)), values, yerr=[below, above], capsize=4, color="#4c72b0")
    ax.set_xticks(range(len(panel.labels)), panel.labels, rotation=30 if len(panel.labels) > 6 else 0)
    ax.set_ylim(0, 100)
    ax.set_xlabel(panel.xlabel)
    ax.set_ylabel(f"{panel.ylabel} (%)")
