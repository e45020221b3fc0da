"""The update under torch.distributed: `torchrun --nproc_per_node 2`, gloo, each rank its share of queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from training.flow_grpo import build_tiny_policy, load_policy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ddp_worker import EXAMPLE  # noqa: E402

pytestmark = pytest.mark.slow


def _torchrun(n: int, policy: Path, out: Path) -> list[dict[str, float]]:
    """Run the worker on `n` processes (same hash seed, one thread each); its step log."""
    out.mkdir()
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(n)]
    done = subprocess.run(
        [*torchrun, str(HERE / "ddp_worker.py"), str(policy), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in (out / "run" / "log.jsonl").read_text().splitlines()]


def test_two_gloo_ranks_end_equal_to_one_process(tmp_path: Path) -> None:
    folder = build_tiny_policy(tmp_path / "policy", yaml.safe_load(EXAMPLE.read_text())["tiny_actions"], seed=0)
    logs = {n: _torchrun(n, folder, tmp_path / f"n{n}") for n in (1, 2)}
    a, b = torch.load(tmp_path / "n2" / "rank0.pt"), torch.load(tmp_path / "n2" / "rank1.pt")
    single = torch.load(tmp_path / "n1" / "rank0.pt")
    start, _ = load_policy(folder)
    # the first step sees the same weights and rows: the loss summed over ranks is one process's loss
    assert logs[1][0]["rows"] > 0
    assert logs[2][0]["loss"] == pytest.approx(logs[1][0]["loss"], abs=1e-6)
    assert logs[2][0]["kl"] == pytest.approx(logs[1][0]["kl"], abs=1e-6)
    moved = False
    for name, value in single.items():
        assert torch.equal(a[name], b[name]), name  # the ranks agree exactly
        assert torch.allclose(a[name], value, atol=1e-5), name  # and match one process on all the queries
        moved = moved or not torch.allclose(value, start.state_dict()[name])
    assert moved  # the steps did update the policy
