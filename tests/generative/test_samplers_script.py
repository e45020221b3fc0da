"""benchmarks/samplers.py trains, measures and ends with its RESULT line (figures are not judged here: timing is)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "samplers.py"


@pytest.mark.slow
def test_the_sampler_benchmark_ends_with_its_result_line(
    run_for_result: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    pytest.importorskip("torchdiffeq")
    pytest.importorskip("ot")
    out = tmp_path / "out"
    figures = run_for_result(
        SCRIPT, "--datasets", "moons,8gaussians", "--steps", "20", "--seeds", "2", "--points", "100",
        "--batch", "32", "--cache", str(tmp_path / "cache"), "--out", str(out), timeout=600,
    )  # fmt: skip
    assert figures["dataset"] == "moons" and figures["worst_dataset"] in ("moons", "8gaussians")
    for key in ("meanflow_1nfe_sw2", "euler_64_sw2", "ratio_meanflow_vs_euler64", "worst_ratio_meanflow_vs_euler64",
                "speed_vs_torchdiffeq", "torchdiffeq_max_diff", "flow_overhead"):  # fmt: skip
        assert float(figures[key]) == float(figures[key]), key  # a number, not nan
    assert float(figures["worst_ratio_meanflow_vs_euler64"]) >= float(figures["ratio_meanflow_vs_euler64"])
    assert float(figures["torchdiffeq_max_diff"]) < 1e-5  # the same method on the same network
    table = json.loads((out / "samplers.json").read_text())
    methods = {(row["dataset"], row["method"]) for row in table["quality"]}
    for name in ("moons", "8gaussians"):
        for method in ("data-vs-data", "euler", "midpoint", "heun", "rk4", "dopri5", "meanflow", "splitmeanflow"):
            assert (name, method) in methods, (name, method)
    assert (out / "samplers.png").stat().st_size > 0
