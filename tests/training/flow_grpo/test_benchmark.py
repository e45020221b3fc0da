"""benchmarks/grpo.py at a tiny size: both arms train and it ends with the RESULT line's keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def test_the_benchmark_ends_with_its_result_line(tmp_path: Path, run_for_result: Callable[..., dict[str, str]]) -> None:
    pytest.importorskip("trl")
    args = ["--steps", "1", "--batch", "2", "--group", "2", "--per-kind", "2", "--warm-epochs", "1"]
    fields = run_for_result(ROOT / "benchmarks" / "grpo.py", *args, "--out", str(tmp_path), timeout=900)
    assert list(fields)[:5] == ["rows_per_s", "trl_rows_per_s", "ratio_vs_trl", "success_flow", "success_trl"]
    assert list(fields)[5:] == ["rows_per_cpu_s", "trl_rows_per_cpu_s", "ratio_vs_trl_cpu"]
    values = {k: float(v) for k, v in fields.items()}
    assert values["rows_per_s"] > 0 and values["trl_rows_per_s"] > 0
    assert values["ratio_vs_trl"] == pytest.approx(values["rows_per_s"] / values["trl_rows_per_s"], rel=0.02)
    assert 0 <= values["success_flow"] <= 1 and 0 <= values["success_trl"] <= 1
    assert (tmp_path / "flow" / "log.jsonl").read_text().count("\n") == 1  # ours ran the library's loop
