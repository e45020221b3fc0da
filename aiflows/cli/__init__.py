"""The `aiflows` command line.

    aiflows run pipeline.yaml --input '{"x": 1}'     # run a flow (YAML file or module:Flow)
    aiflows resume RUN_ID                            # finish an interrupted run
    aiflows trace RUN_ID [--jsonl]                   # the call tree, or every message as JSON lines
    aiflows runs                                     # recent runs

Each command group is a module here with `register(subparsers)`; heavy imports wait for the handler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

COMMAND_MODULES = ["run"]
OPTIONAL_MODULES = ["serve", "llm", "hub", "judge", "bench", "human", "train", "agent"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiflows", description="Build, run and inspect flows.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES + OPTIONAL_MODULES:
        try:
            module = importlib.import_module(f"aiflows.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"aiflows.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ..exceptions import AiflowsError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from .._version import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except AiflowsError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `aiflows trace ... | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
