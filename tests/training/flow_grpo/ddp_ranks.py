"""One rank of the DDP test, run by torchrun: two Flow-GRPO updates on this rank's share of the rows."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from training.flow_grpo.data_parallel import ddp_update, init_distributed, shard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_data_parallel import CONFIG, _model, _rows, _trajectories  # noqa: E402


def main(folder: str, out: str) -> None:
    rank, world = init_distributed("gloo")
    try:
        torch.manual_seed(0)
        model = _model(Path(folder))
        reference = copy.deepcopy(model).requires_grad_(False)
        optimizer = torch.optim.AdamW(model.parameters(), lr=CONFIG.lr)
        rows = shard(_rows(), rank, world)
        for _ in range(2):
            ddp_update(model, reference, optimizer, rows, _trajectories(rows), CONFIG)
        torch.save({k: v.detach().clone() for k, v in model.state_dict().items()}, f"{out}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
