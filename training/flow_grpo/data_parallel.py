"""Data-parallel Flow-GRPO updates with torch.distributed (`torchrun --nproc_per_node N`).

Each rank rolls out its own share of the step's queries (`shard`: whole query groups, so advantages
stay group-local), then `ddp_update` takes the optimizer step through DistributedDataParallel: the
gradients are all-reduced (averaged) across ranks, so every rank ends the step with the same weights.
With equal token counts per rank this is the single-process update on all ranks' rows together.
CPU runs use the gloo backend.
"""

from __future__ import annotations

import os
import weakref
from typing import Any, TypeVar

from .config import FlowGRPOConfig
from .rows import Row, Trajectory

__all__ = ["ddp_update", "init_distributed", "shard"]

T = TypeVar("T")
_WRAPPED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def init_distributed(backend: str = "gloo") -> tuple[int, int]:
    """(rank, world size): joins the process group torchrun describes in the environment; (0, 1) alone."""
    import torch.distributed as dist

    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return 0, 1
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return dist.get_rank(), dist.get_world_size()


def shard(items: list[T], rank: int, world: int) -> list[T]:
    """This rank's share: every `world`-th item from `rank` (the same split on every rank)."""
    if not 0 <= rank < world:
        raise ValueError(f"rank {rank} is not in a world of {world}")
    return items[rank::world]


def ddp_update(
    model: Any,
    reference: Any,
    optimizer: Any,
    rows: list[Row],
    trajectories: list[Trajectory],
    config: FlowGRPOConfig,
) -> dict[str, float]:
    """One optimizer step over this rank's `rows` with gradients averaged across all ranks.

    `optimizer` holds `model`'s parameters; every rank must call this once per step (with rows or not).
    """
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from .train import update

    if not dist.is_initialized() or dist.get_world_size() == 1:
        return update(model, reference, optimizer, rows, trajectories, config)
    wrapped = _WRAPPED.get(model)
    if wrapped is None:  # kept aside, not as an attribute: a submodule would make the model hold itself
        wrapped = DistributedDataParallel(model, find_unused_parameters=False)
        wrapped.config = model.config  # update() reads the pad id from it
        _WRAPPED[model] = wrapped
    if not rows:
        raise ValueError("ddp_update: this rank has no rows; every rank needs rows to join the all-reduce")
    return update(wrapped, reference, optimizer, rows, trajectories, config)
