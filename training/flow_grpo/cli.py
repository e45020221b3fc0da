"""`aiflows train flow-grpo`: train an agent's planner in the flow from a YAML config.

    aiflows train flow-grpo config.yaml
    aiflows train flow-grpo config.yaml steps=50 credit=last_turn group=8
    aiflows train flow-grpo --show config.yaml      # print the resolved config and exit

Writes log.jsonl, checkpoints/ and curve.png in the config's `out`; running again resumes. The last
line printed is the last step's log as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cmd = subparsers.add_parser(
        "flow-grpo", help="Flow-GRPO: train an agent's planner in the flow", description=__doc__
    )
    cmd.add_argument("config", nargs="?", default=None, help="a YAML file of FlowGRPOConfig fields")
    cmd.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config fields set after the file")
    cmd.add_argument("--show", action="store_true", help="print the resolved config and exit")
    cmd.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from aiflows.exceptions import ConfigError

    from .._config import split_args
    from .config import load_config

    file, overrides = split_args(args.config, args.overrides)
    try:
        config = load_config(file, overrides)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(config.model_dump(), sort_keys=True), file=sys.stderr)
    if args.show:
        return 0
    from .train import TrainError, train

    try:
        result = train(config)
    except (ConfigError, TrainError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if int(os.environ.get("RANK", "0")) != 0:
        return 0  # under torchrun one line for the run: rank 0's, the rank that writes the checkpoint
    last = {k: v for k, v in (result.history[-1] if result.history else {}).items() if k != "queries"}
    print(json.dumps({"step": result.step, "checkpoint": str(result.checkpoint), **last}))
    return 0
