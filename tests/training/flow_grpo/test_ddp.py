"""The update under torch.distributed: `torchrun --nproc_per_node 2`, gloo, each rank its share of queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from training.flow_grpo import build_tiny_policy, load_policy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ddp_worker import EXAMPLE  # noqa: E402

pytestmark = pytest.mark.slow


def _torchrun(n: int, policy: Path, out: Path) -> list[dict[str, Any]]:
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


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[int, list[dict[str, Any]]]]:
    """The same two steps on one process and on two gloo ranks: (folder, policy, step logs by world size)."""
    tmp_path = tmp_path_factory.mktemp("ddp")
    folder = build_tiny_policy(tmp_path / "policy", yaml.safe_load(EXAMPLE.read_text())["tiny_actions"], seed=0)
    return tmp_path, folder, {n: _torchrun(n, folder, tmp_path / f"n{n}") for n in (1, 2)}


def test_two_gloo_ranks_end_equal_to_one_process(runs: tuple[Path, Path, dict[int, list[dict[str, Any]]]]) -> None:
    tmp_path, folder, logs = runs
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


def test_every_logged_metric_is_combined_across_ranks(runs: tuple[Path, Path, dict[int, list[dict[str, Any]]]]) -> None:
    tmp_path, _, logs = runs
    ranks = [json.loads((tmp_path / "n2" / f"history{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1] == logs[2]  # both ranks log the same combined line, as rank 0 writes it
    one, two = logs[1][0], logs[2][0]  # the first step: the same weights, queries and samples
    assert one["queries"] == two["queries"] and len(one["queries"]) == 4
    counts = ("rows", "failed_trajectories", "truncated_rows", "jobs_retried", "jobs_dropped")
    rates = ("reward_mean", "success", "zero_variance_fraction", "mean_turns", "invalid_action_rate")
    for key in (*counts, *rates, "loss", "kl", "clip_fraction", "entropy"):
        assert two[key] == pytest.approx(one[key], abs=1e-6), key
    for key in ("rows_per_s", "tokens_per_s"):  # all ranks' rows over the slowest rank's time
        assert two[key] > 0
    assert two["rows_per_s"] / two["tokens_per_s"] == pytest.approx(one["rows_per_s"] / one["tokens_per_s"])


def test_torchrun_runs_the_command_with_a_tiny_policy_built_once(tmp_path: Path) -> None:
    """`torchrun -m aiflows train flow-grpo`: rank 0 builds the tiny policy, the other reads it when done."""
    example = HERE.parents[2] / "examples" / "flow_grpo_kbqa.yaml"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command = ["-m", "aiflows", "train", "flow-grpo", str(example), "steps=1", f"out={tmp_path}", "progress=false"]
    done = subprocess.run(
        [*torchrun, *command], capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["rows"] > 0
    assert (tmp_path / "tiny-policy" / "model.safetensors").is_file()
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 1 and results[0]["step"] == 1 and results[0]["checkpoint"] != "None"  # rank 0's line
