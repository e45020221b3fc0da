"""benchmarks/samplers_gpu.py runs end to end on CPU in its tiny mode, and says why it stops without CUDA."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "samplers_gpu.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.slow
def test_tiny_cpu_run_measures_every_mode_and_prints_result():
    done = _run("--tiny", "--device", "cpu")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed" not in done.stdout
    for line in ("fp32", "bf16", "train fm       fp32", "train meanflow fp32", "train meanflow bf16"):
        assert line in done.stdout
    result = done.stdout.strip().splitlines()[-1]
    assert result.startswith("RESULT device=cpu ")
    fields = dict(part.split("=") for part in result.split()[1:])
    for key in ("imgs_s_fp32", "imgs_s_bf16", "fm_step_ms", "meanflow_step_ms", "meanflow_vs_fm"):
        assert float(fields[key]) > 0, key


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_without_cuda_it_stops_at_once_with_a_message():
    done = _run()
    assert done.returncode == 2
    assert "has none" in done.stderr and "--tiny --device cpu" in done.stderr
    assert "RESULT" not in done.stdout
