"""One rank of the 2-process test: `torchrun --nproc_per_node 2 ddp_worker.py POLICY OUT` (gloo, CPU)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
import yaml

from training.flow_grpo import FlowGRPOConfig, load_policy, train

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "flow_grpo_kbqa.yaml"


def answered(answer: str, example: Any) -> float:
    """A reward that varies within groups of a random planner: did the agent give any value at all."""
    return float(answer.strip() != "")


def config(out: Path) -> FlowGRPOConfig:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update({"out": str(out), "progress": False, "plot": False, "steps": 2, "group": 4, "queries": 4})
    # a small entropy bonus: with advantages summing to zero in each group, the policy gradient of a
    # token no row sampled cancels to float noise, which Adam would scale up to the learning rate (and
    # its sign differs with the summation order); the bonus gives every weight a real gradient
    data["entropy_coef"] = 0.01
    return FlowGRPOConfig(**data)


if __name__ == "__main__":
    torch.set_num_threads(1)
    policy, out = sys.argv[1], Path(sys.argv[2])
    result = train(config(out / "run"), policy=load_policy(policy), reward=answered)
    state = {k: v.detach().clone() for k, v in result.model.state_dict().items()}
    torch.save(state, out / f"rank{os.environ['RANK']}.pt")
    (out / f"history{os.environ['RANK']}.json").write_text(json.dumps(result.history))
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
