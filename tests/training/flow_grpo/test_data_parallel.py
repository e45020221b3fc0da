"""DDP over gloo with two processes: both ranks end with the same weights as one process on all the rows."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from training.flow_grpo.config import FlowGRPOConfig
from training.flow_grpo.data_parallel import shard
from training.flow_grpo.rows import Row, Trajectory

pytestmark = pytest.mark.slow

CONFIG = FlowGRPOConfig(lr=1e-2, minibatch=64, kl_coef=0.01, temperature=1.0, progress=False, plot=False)


def _rows() -> list[Row]:
    """Eight rows (shared with ddp_ranks.py), three response tokens each (equal token counts per rank), mixed advantages."""
    out = []
    for i in range(8):
        out.append(
            Row(
                query_id=f"q{i % 4}",
                rollout_id=f"r{i}",
                turn=1,
                prompt_ids=[1, 4 + i % 3, 5, 2, 1],
                response_ids=[7 + i % 2, 8, 2],
                old_logprobs=[-2.0, -2.1, -1.9],
                advantage=(1.0 if i % 3 else -1.0) * (0.5 + i / 8),
            )
        )
    return out


def _trajectories(rows: list[Row]) -> list[Trajectory]:
    return [Trajectory(query_id=r.query_id, rollout_id=r.rollout_id, reward=0.0, rows=[r]) for r in rows]


def _model(folder: Path) -> Any:
    from training.flow_grpo.policy import load_policy

    model, _ = load_policy(folder)
    return model.eval()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_two_gloo_ranks_match_one_process_on_all_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from training.flow_grpo.policy import build_tiny_policy
    from training.flow_grpo.train import update

    folder = build_tiny_policy(tmp_path / "policy", ["Tool: a", "Tool: b", "Tool: c", "Tool: d"], hidden=16)
    root = str(Path(__file__).resolve().parents[3])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    script = Path(__file__).with_name("ddp_ranks.py")
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
         str(script), str(folder), str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]

    torch.manual_seed(0)
    model = _model(folder)
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    reference = copy.deepcopy(model).requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=CONFIG.lr)
    rows = _rows()
    for _ in range(2):
        update(model, reference, optimizer, rows, _trajectories(rows), CONFIG)
    single = model.state_dict()

    for key, value in single.items():
        assert torch.equal(ranks[0][key], ranks[1][key]), key
        assert torch.allclose(ranks[0][key], value, atol=1e-6), key
    assert any(not torch.equal(initial[k], single[k]) for k in single)  # the step did move the weights


def test_shard_splits_whole_lists_and_names_a_bad_rank() -> None:
    assert shard(list(range(5)), 0, 2) == [0, 2, 4] and shard(list(range(5)), 1, 2) == [1, 3]
    with pytest.raises(ValueError, match="rank 2 is not in a world of 2"):
        shard([1], 2, 2)
