"""training/gpu_check.py: refuses cleanly without CUDA, and its whole path runs on a tiny model on CPU."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "training" / "gpu_check.py"


def test_without_cuda_it_exits_2_with_a_clear_message() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "no CUDA device" in done.stderr and "--tiny --device cpu" in done.stderr
    assert "RESULT" not in done.stdout


@pytest.mark.slow
def test_tiny_cpu_mode_runs_end_to_end(run_for_result: Callable[..., dict[str, str]]) -> None:
    args = ["--tiny", "--device", "cpu", "--prompts", "2", "--group", "2", "--prompt-len", "16", "--new-tokens", "3"]
    fields = run_for_result(SCRIPT, *args, "--steps", "1", timeout=600)
    assert fields["device"] == "cpu"
    assert fields["rows_per_step"] == "4"
    assert float(fields["rollout_rows_per_s"]) > 0 and float(fields["update_rows_per_s"]) > 0
    assert re.fullmatch(r"-?\d+\.\d+", fields["loss"])
