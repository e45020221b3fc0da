"""What the bench commands print when a run ends: the headline numbers and where the files are."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import Report
    from .runner import BenchResult

__all__ = ["print_summary", "summary_lines"]


def summary_lines(report: Report) -> list[str]:
    lines = [f"{report.flow}: solved {report.solved}/{report.problems} ({100 * report.solve_rate:.1f}%)"]
    for k, e in report.pass_at_k.items():
        lines.append(f"pass@{k}: {100 * e.value:.1f}% [95% CI {100 * e.low:.1f}, {100 * e.high:.1f}]")
    lines.append(f"tokens: {report.total_tokens}, cost: ${report.cost_usd:.4f}, errors: {len(report.errors)}")
    for name, path in report.files.items():
        lines.append(f"{name}: {path}")
    return lines


def print_summary(result: BenchResult) -> None:
    print(f"ran {result.ran}, already recorded {result.skipped}")
    for line in summary_lines(result.report):
        print(line)
