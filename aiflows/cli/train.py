"""`aiflows train`: the trainers, each a subcommand.

    aiflows train gen config.yaml                  # flow matching / MeanFlow / SplitMeanFlow (training.generative)
    aiflows train gen config.yaml steps=200 data=digits

Trainers live above the library (in `training/`), so this module never imports them. Each one is
named in the `aiflows.train` entry-point group of pyproject.toml (`name = "module:register"`);
its `register(subparsers)` adds its subcommand here. A trainer that cannot be imported (its extra
is not installed) is listed with the install hint instead of breaking the whole command line.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, distribution

__all__ = ["TRAIN_ENTRY_POINTS", "register"]

TRAIN_ENTRY_POINTS = "aiflows.train"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = subparsers.add_parser("train", help="train models (generative flows, agent planners)")
    sub = train.add_subparsers(dest="train_command", metavar="TRAINER")
    try:
        entries = sorted(distribution("aiflows").entry_points.select(group=TRAIN_ENTRY_POINTS), key=lambda e: e.name)
    except PackageNotFoundError:
        entries = []
    for entry in entries:
        try:
            add = entry.load()
        except ImportError as exc:
            missing = sub.add_parser(entry.name, help=f"(unavailable: {exc}; pip install -e '.[gen]')")
            missing.set_defaults(func=_unavailable(entry.name, str(exc)))
            continue
        add(sub)

    def _usage(args: argparse.Namespace) -> int:
        train.print_help()
        return 2

    train.set_defaults(func=_usage)


def _unavailable(name: str, why: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from ..exceptions import ConfigError

        raise ConfigError(
            f"trainer '{name}' cannot be imported ({why}); install its extra, e.g. pip install -e '.[gen]'"
        )

    return run
