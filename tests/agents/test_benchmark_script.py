"""benchmarks/agent.py runs both sides and ends with its RESULT line (figures are not judged here: timing is)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "agent.py"


@pytest.mark.slow
def test_the_agent_benchmark_ends_with_its_result_line() -> None:
    pytest.importorskip("langgraph.prebuilt")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "3", "--warm-up", "1", "--turns", "3"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT ")
    figures = dict(re.findall(r"(\w+)=([\d.-]+)", last))
    for key in ("turn_us", "langgraph_turn_us", "ratio_vs_langgraph", "turn_cpu_us", "langgraph_turn_cpu_us"):
        assert key in figures, key
    t1, t5, t10 = (int(figures[f"prompt_tokens_t{n}"]) for n in (1, 5, 10))
    # Each turn's tool returns about 1000 tokens of words; memory keeps 400 characters of it.
    assert t1 < t5 < t10 and (t10 - t5) / 5 < 300
