"""What the bench commands print when a run ends: the headline numbers and where the files are."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import Report
    from .runner import BenchResult

__all__ = ["all_failed_line", "print_summary", "reuse_line", "summary_lines"]


def summary_lines(report: Report) -> list[str]:
    lines = [f"{report.flow}: solved {report.solved}/{report.problems} ({100 * report.solve_rate:.1f}%)"]
    for k, e in report.pass_at_k.items():
        lines.append(f"pass@{k}: {100 * e.value:.1f}% [95% CI {100 * e.low:.1f}, {100 * e.high:.1f}]")
    lines.append(f"tokens: {report.total_tokens}, cost: ${report.cost_usd:.4f}, errors: {len(report.errors)}")
    for name, path in report.files.items():
        lines.append(f"{name}: {path}")
    return lines


def reuse_line(result: BenchResult) -> str:
    """How many attempts ran now and how many records were reused, from which run folder."""
    line = f"ran {result.ran}, reused {result.skipped} records of run {result.out}"
    if result.reused_errors:
        line += f" ({result.reused_errors} of them errors: --retry-failed runs them again)"
    return line


def print_summary(result: BenchResult) -> None:
    print(reuse_line(result))
    for line in summary_lines(result.report):
        print(line)


def all_failed_line(result: BenchResult) -> str:
    """One line for a run in which no attempt got an answer, naming the first error."""
    first = next((e for e in result.report.errors), None)
    why = f"; the first, problem '{first['problem']}': {first['type']}: {first['message']}" if first else ""
    return f"every attempt failed ({result.failed} of {result.attempts}){why}"
