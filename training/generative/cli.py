"""`aiflows train gen`: one generative training run from a YAML config and key=value overrides.

    aiflows train gen config.yaml
    aiflows train gen config.yaml steps=5000 objective=meanflow data=digits class_conditional=true
    aiflows train gen --show config.yaml          # print the resolved config and exit

Prints the resolved config, a progress bar, and at the end one JSON line: the checkpoint, the
step reached, the last evaluation. Running it again with the same out_dir resumes.
"""

from __future__ import annotations

import argparse
import json
import sys

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gen = subparsers.add_parser(
        "gen", help="flow matching, MeanFlow or SplitMeanFlow on 2-D toys or 8x8 digits", description=__doc__
    )
    gen.add_argument("config", nargs="?", default=None, help="a YAML file of GenTrainConfig fields (optional)")
    gen.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config fields set after the file")
    gen.add_argument("--show", action="store_true", help="print the resolved config and exit")
    gen.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from .._config import split_args
    from .config import load_config

    file, overrides = split_args(args.config, args.overrides)
    config = load_config(file, overrides)
    print(json.dumps(config.model_dump(), sort_keys=True), file=sys.stderr)
    if args.show:
        return 0
    from .train import train

    result = train(config)
    last = result.evals[-1] if result.evals else {}
    print(json.dumps({"checkpoint": str(result.checkpoint), "step": result.step, "eval": last}))
    return 0
