"""The main job: Code_Debug on the sample problems with the embedded defaults.

In-process bus, the local transformers backend (Qwen/Qwen2.5-Coder-0.5B-Instruct, or any model in
AIFLOWS_MODEL), the LLM response cache on. Without the model, it stops before any problem runs
and says how to provide one.

    python -m aiflows.bench.demo            # or: aiflows bench demo, make demo
    AIFLOWS_MODEL=local:/models/qwen python -m aiflows.bench.demo --out bench_runs/demo

Exit codes: 0 the run ended; 1 it stopped before any problem ran (no model, a model check failed);
3 every attempt failed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from aiflows.exceptions import AiflowsError

__all__ = ["add_arguments", "main", "run_demo"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flow", default="Code_Debug", help="the cc flow to run (default Code_Debug)")
    parser.add_argument(
        "--out", type=Path, default=Path("bench_runs/demo"), help="the folder of runs (default bench_runs/demo)"
    )
    parser.add_argument("-j", "--jobs", type=int, default=2, help="problems run at once (default 2)")
    parser.add_argument("--limit", type=int, default=None, help="run at most this many sample problems")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_demo(args: argparse.Namespace) -> int:
    """Check the model, then run the benchmark on the shipped samples and print the summary.

    Returns 0 when the run ended, 3 when every attempt failed (errors raise, see `main`).
    """
    from .cli_output import all_failed_line, print_summary
    from .config import BenchConfig
    from .model_check import check_model_available
    from .runner import run_bench
    from .runs import run_folder

    model = check_model_available(None)  # before any problem runs: fail fast and say how to fix it
    print(f"model: {model}", file=sys.stderr)
    config = BenchConfig(
        flow=args.flow,
        problems=["samples"],
        jobs=args.jobs,
        limit=args.limit,
        progress=not args.no_progress,
    )
    config = run_folder(config, args.out)
    result = asyncio.run(run_bench(config))
    print_summary(result)
    if result.all_failed:
        print(all_failed_line(result), file=sys.stderr)
        return 3
    return 0


def main(argv: Sequence[str] | None = None, *, prog: str = "python -m aiflows.bench.demo") -> int:
    """Parse `argv`, run the demo, and return the exit code (errors as one line, see the docstring)."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_demo(args)
    except AiflowsError as exc:  # stopped before any problem ran: one line, exit 1 (as `aiflows bench`)
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the records so far are kept; run again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
