"""The benchmark report: solve rate, pass@k with bootstrap intervals, a breakdown, tokens and cost.

Built from `records.jsonl` alone, so it can be rebuilt at any time (`aiflows bench report DIR`).
Writes `report.json` (everything), `report.md` (for people) and `report.png` (pass@k and the
breakdown with their intervals; needs matplotlib).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from .config import load_config
from .metrics import Estimate, estimate
from .plot import Bars, plot_bars
from .records import ProblemRecord, RecordFile

__all__ = ["Group", "Report", "build_report", "write_report"]

RESAMPLES = 1000


class Group(BaseModel):
    """pass@1 of the problems sharing a difficulty or bucket."""

    name: str
    problems: int
    solved: int
    pass_at_1: Estimate


class Report(BaseModel):
    flow: str = ""
    model: str = ""
    sandbox: str = "bwrap"  # the judge's isolation: "bwrap", or "none" when the run opted out of it
    problems: int = 0  # problems attempted (load errors excluded)
    attempts: int = 0
    samples: int = 0  # the fewest attempts any problem has: pass@k is given for k up to this
    solved: int = 0  # problems with at least one accepted attempt
    solve_rate: float = 0.0
    pass_at_k: dict[str, Estimate] = Field(default_factory=dict)  # "1", "2", "5", ...
    breakdown_by: str = ""  # "difficulty", "bucket" or "source"
    breakdown: list[Group] = Field(default_factory=list)
    verdicts: dict[str, int] = Field(default_factory=dict)
    errors: list[dict[str, Any]] = Field(default_factory=list)  # problem, type, message, file
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0
    files: dict[str, str] = Field(default_factory=dict)


def _ks(samples: int) -> list[int]:
    ks = [k for k in (1, 2, 5, 10, 20, 50, 100) if k <= samples]
    if samples not in ks and samples > 0:
        ks.append(samples)
    return ks


def _breakdown(by_problem: dict[str, list[ProblemRecord]]) -> tuple[str, dict[str, list[str]]]:
    firsts = {pid: recs[0] for pid, recs in by_problem.items()}
    groups: dict[str, list[str]] = defaultdict(list)
    if any(r.difficulty for r in firsts.values()):
        for pid, rec in firsts.items():
            groups[rec.difficulty or "unknown"].append(pid)
        return "difficulty", groups
    if any(r.buckets for r in firsts.values()):
        for pid, rec in firsts.items():
            for bucket in rec.buckets or ["unknown"]:
                groups[bucket].append(pid)
        return "bucket", groups
    for pid, rec in firsts.items():
        groups[rec.source or "unknown"].append(pid)
    return "source", groups


def _group_key(name: str) -> tuple[int, float | str]:
    try:
        return (0, float(name))
    except ValueError:
        return (1, name)


def build_report(records: list[ProblemRecord], *, meta: dict[str, Any] | None = None) -> Report:
    """Aggregate attempt records; failed runs count as wrong attempts, load errors are listed apart."""
    meta = meta or {}
    attempts = [r for r in records if r.status != "load_error"]
    by_problem: dict[str, list[ProblemRecord]] = defaultdict(list)
    for record in sorted(attempts, key=lambda r: (r.problem_id, r.sample)):
        by_problem[record.problem_id].append(record)
    counts = {pid: (len(recs), sum(r.accepted for r in recs)) for pid, recs in by_problem.items()}
    samples = min((n for n, _ in counts.values()), default=0)
    report = Report(
        flow=meta.get("flow") or next((r.flow for r in records), ""),
        model=meta.get("model") or next((r.model for r in attempts if r.model), ""),
        sandbox="none" if meta.get("sandbox") == "none" else "bwrap",
        problems=len(by_problem),
        attempts=len(attempts),
        samples=samples,
        solved=sum(c > 0 for _, c in counts.values()),
    )
    report.solve_rate = report.solved / report.problems if report.problems else 0.0
    pairs = [counts[pid] for pid in sorted(counts)]
    for k in _ks(samples):
        report.pass_at_k[str(k)] = estimate(pairs, k, resamples=RESAMPLES)
    report.breakdown_by, groups = _breakdown(by_problem)
    for name in sorted(groups, key=_group_key):
        members = [counts[pid] for pid in sorted(groups[name])]
        report.breakdown.append(
            Group(
                name=name,
                problems=len(members),
                solved=sum(c > 0 for _, c in members),
                pass_at_1=estimate(members, 1, resamples=RESAMPLES),
            )
        )
    report.verdicts = dict(Counter(r.verdict or r.status.upper() for r in attempts).most_common())
    for record in records:
        if record.error is not None:
            report.errors.append(
                {
                    "problem": record.problem_id,
                    "sample": record.sample,
                    "status": record.status,
                    **record.error.model_dump(exclude_none=True),
                }
            )
    for field in ("prompt_tokens", "completion_tokens", "total_tokens", "calls", "cached_calls"):
        setattr(report, field, sum(getattr(r, field) for r in attempts))
    report.cost_usd = sum(r.cost_usd for r in attempts)
    return report


def _percent(e: Estimate) -> str:
    return f"{100 * e.value:.1f}% [{100 * e.low:.1f}, {100 * e.high:.1f}]"


def to_markdown(report: Report) -> str:
    lines = [
        f"# {report.flow or 'cc'} on {report.problems} problems",
        "",
        f"- model: `{report.model or 'default'}`",
        (
            "- judge sandbox: bubblewrap"
            if report.sandbox != "none"
            else "- judge sandbox: **none** (programs ran unisolated: `sandbox: none` was asked for)"
        ),
        (
            f"- solved: {report.solved}/{report.problems} ({100 * report.solve_rate:.1f}%), "
            f"{report.attempts} attempts, {report.samples} per problem"
        ),
        (
            f"- tokens: {report.total_tokens} ({report.prompt_tokens} prompt, {report.completion_tokens} completion) "
            f"in {report.calls} model calls ({report.cached_calls} from the cache); cost ${report.cost_usd:.4f}"
        ),
        "",
        "## pass@k (95% bootstrap interval over problems, 1000 resamples)",
        "",
        "| k | pass@k |",
        "|---|---|",
        *(f"| {k} | {_percent(e)} |" for k, e in report.pass_at_k.items()),
        "",
        f"## By {report.breakdown_by or 'group'}",
        "",
        f"| {report.breakdown_by or 'group'} | problems | solved | pass@1 |",
        "|---|---|---|---|",
        *(f"| {g.name} | {g.problems} | {g.solved} | {_percent(g.pass_at_1)} |" for g in report.breakdown),
        "",
        "## Verdicts",
        "",
        ", ".join(f"{v}: {n}" for v, n in report.verdicts.items()) or "none",
    ]
    if report.errors:
        lines += ["", "## Errors", ""]
        for err in report.errors:
            where = f" ({err['file']})" if err.get("file") else ""
            lines.append(f"- `{err['problem']}`#{err['sample']} {err['type']}{where}: {err['message']}")
    return "\n".join(lines) + "\n"


def write_report(folder: Path) -> Report:
    """Build the report from `folder/records.jsonl` and write report.json, report.md and report.png."""
    folder = Path(folder)
    records = list(RecordFile(folder).load().values())
    report = build_report(records, meta=load_config(folder))
    report.files = {"json": str(folder / "report.json"), "markdown": str(folder / "report.md")}
    png = plot_bars(folder / "report.png", _plot_title(report), _plot_panels(report))
    if png is not None:
        report.files["plot"] = str(png)
    (folder / "report.md").write_text(to_markdown(report), encoding="utf-8")
    (folder / "report.json").write_text(json.dumps(report.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    return report


def _plot_title(report: Report) -> str:
    return f"{report.flow} · {report.model or 'default model'} · {report.problems} problems"


def _plot_panels(report: Report) -> list[Bars]:
    """pass@k for each k, and pass@1 for each group of the breakdown."""
    groups = report.breakdown
    return [
        Bars(list(report.pass_at_k), list(report.pass_at_k.values()), "k", "pass@k"),
        Bars([g.name for g in groups], [g.pass_at_1 for g in groups], report.breakdown_by or "group", "pass@1"),
    ]
