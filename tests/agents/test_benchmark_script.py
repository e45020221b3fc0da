"""benchmarks/agent.py runs both sides and ends with its RESULT line (figures are not judged here: timing is)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "agent.py"


@pytest.mark.slow
def test_the_agent_benchmark_ends_with_its_result_line(run_for_result: Callable[..., dict[str, str]]) -> None:
    pytest.importorskip("langgraph.prebuilt")
    figures = run_for_result(SCRIPT, "--rounds", "3", "--warm-up", "1", "--turns", "3", timeout=300)
    for key in ("turn_us", "langgraph_turn_us", "ratio_vs_langgraph", "turn_cpu_us", "langgraph_turn_cpu_us"):
        assert key in figures, key
    t1, t5, t10 = (int(figures[f"prompt_tokens_t{n}"]) for n in (1, 5, 10))
    # Each turn's tool returns about 1000 tokens of words; memory keeps 400 characters of it.
    assert t1 < t5 < t10 and (t10 - t5) / 5 < 300
