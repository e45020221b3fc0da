"""The demo's table and curves: success per arm with 95% bootstrap intervals, learning curves as PNG.

Interval: percentile bootstrap (2000 resamples) of the mean over seeds, resampling the held-out
questions with replacement within each seed; so it covers both the seeds and the question sample.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from pydantic import BaseModel

__all__ = ["Cell", "Table", "bootstrap", "plot_curves", "render_table", "summarise"]


class Cell(BaseModel):
    mean: float
    low: float
    high: float
    per_seed: list[float]


class Table(BaseModel):
    arms: dict[str, dict[str, Cell]]  # arm -> "greedy" / "sampled" -> cell
    questions: int  # held-out questions per seed
    by_split: dict[str, dict[str, float]] = {}  # arm -> held-out split -> greedy success over all seeds


def bootstrap(per_seed: list[list[float]], resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean over seeds, questions resampled within each seed."""
    rng = random.Random(seed)
    means = []
    for _ in range(resamples):
        total = 0.0
        for values in per_seed:
            total += sum(rng.choice(values) for _ in values) / len(values)
        means.append(total / len(per_seed))
    means.sort()
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def summarise(seeds: list[dict[str, Any]], arms: tuple[str, ...]) -> Table:
    table: dict[str, dict[str, Cell]] = {}
    for arm in arms:
        table[arm] = {}
        for mode in ("greedy", "sampled"):
            values = [s["arms"][arm][mode] for s in seeds]
            per_seed = [sum(v) / len(v) for v in values]
            low, high = bootstrap(values)
            table[arm][mode] = Cell(mean=sum(per_seed) / len(per_seed), low=low, high=high, per_seed=per_seed)
    by_split: dict[str, dict[str, float]] = {}
    for arm in arms:
        pooled: dict[str, list[float]] = {}
        for s in seeds:
            splits = s.get("held_out_split") or ["held_out"] * len(s["held_out"])
            for split, value in zip(splits, s["arms"][arm]["greedy"], strict=True):
                pooled.setdefault(split, []).append(value)
        by_split[arm] = {k: sum(v) / len(v) for k, v in pooled.items()}
    return Table(arms=table, questions=len(seeds[0]["held_out"]), by_split=by_split)


def render_table(table: Table, cfg: Any, seconds: float, cpu_seconds: float | None = None) -> str:
    """A markdown table, with what was run and the verdicts the demo is judged by."""

    def cell(c: Cell) -> str:
        return f"{100 * c.mean:5.1f} [{100 * c.low:5.1f}, {100 * c.high:5.1f}]"

    splits = sorted({k for v in table.by_split.values() for k in v})
    names = {"test_entity": "unseen entities", "test_composition": "unseen composition"}
    lines = [
        f"Held-out success, % (mean over seeds {cfg.seeds}, 95% bootstrap CI; {table.questions} held-out questions "
        f"per seed: unseen entities and an unseen composition)",
        "",
        f"| arm | greedy | sampled (T={cfg.temperature}) |" + "".join(f" greedy, {names.get(k, k)} |" for k in splits),
        "|---|---|---|" + "---|" * len(splits),
    ]
    for arm, m in table.arms.items():
        parts = "".join(f" {100 * table.by_split[arm][k]:5.1f} |" for k in splits)
        lines.append(f"| {arm} | {cell(m['greedy'])} | {cell(m['sampled'])} |{parts}")
    arms = table.arms
    warm, grpo, shuf = (arms[a]["greedy"] for a in ("warm_start", "flow_grpo", "shuffled_reward"))
    gain, shuffled_gain = grpo.mean - warm.mean, shuf.mean - warm.mean
    timing = f"wall time {seconds:.0f} s" + (f", CPU time (user + sys) {cpu_seconds:.0f} s" if cpu_seconds else "")
    lines += [
        "",
        f"Flow-GRPO - warm start (greedy): {100 * gain:+.1f} points; intervals overlap: {grpo.low <= warm.high}",
        f"shuffled reward - warm start (greedy): {100 * shuffled_gain:+.1f} points; "
        f"intervals overlap: {shuf.low <= warm.high and warm.low <= shuf.high}",
        f"last-turn reward - warm start (greedy): {100 * (arms['last_turn_reward']['greedy'].mean - warm.mean):+.1f} points",
        f"random policy (greedy / sampled): {100 * arms['random']['greedy'].mean:.1f} / "
        f"{100 * arms['random']['sampled'].mean:.1f}; warm start: {100 * warm.mean:.1f} / "
        f"{100 * arms['warm_start']['sampled'].mean:.1f}",
        f"{cfg.steps} steps x {cfg.batch} queries x G={cfg.group}, lr {cfg.lr}; {timing}",
    ]
    return "\n".join(lines) + "\n"


def plot_curves(seeds: list[dict[str, Any]], path: Path) -> None:
    """Training reward per step, per arm (mean over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for arm in seeds[0]["curves"]:
        curves = [s["curves"][arm] for s in seeds]
        mean = [sum(v) / len(v) for v in zip(*curves, strict=True)]
        ax.plot(range(1, len(mean) + 1), mean, label=arm)
    ax.set_xlabel("step")
    ax.set_ylabel("training reward (mean over seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
