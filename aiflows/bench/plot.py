"""The report's plot: pass@k and pass@1 per group, each with its bootstrap interval."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .metrics import Estimate
    from .report import Report

__all__ = ["plot_report"]

log = logging.getLogger("aiflows.bench")


def plot_report(report: Report, path: Path) -> Path | None:
    """Draw `report` into a PNG at `path`; None (and a log line) when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: no display is needed or wanted
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: no plot (pip install matplotlib)")
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    _bars(left, list(report.pass_at_k), [report.pass_at_k[k] for k in report.pass_at_k], "k", "pass@k")
    groups = report.breakdown
    _bars(right, [g.name for g in groups], [g.pass_at_1 for g in groups], report.breakdown_by or "group", "pass@1")
    fig.suptitle(f"{report.flow} · {report.model or 'default model'} · {report.problems} problems")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _bars(ax: Axes, labels: list[str], estimates: list[Estimate], xlabel: str, ylabel: str) -> None:
    values = [100 * e.value for e in estimates]
    below = [100 * (e.value - e.low) for e in estimates]
    above = [100 * (e.high - e.value) for e in estimates]
    ax.bar(range(len(values)), values, yerr=[below, above], capsize=4, color="#4c72b0")
    ax.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 6 else 0)
    ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{ylabel} (%)")
