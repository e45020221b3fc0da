"""`aiflows bench`: the competitive-coding benchmark.

    aiflows bench cc --flow Code_Debug --problems samples -j 4 --out bench_runs/debug
    aiflows bench cc --flow Plan_Oracle-Code --problems data/codeforces.jsonl --samples 5 --model openai/gpt-4o-mini
    aiflows bench report bench_runs/debug          # rebuild report.md/json/png from the records
    aiflows bench demo                              # Code_Debug on the shipped samples, local model

Runs live under --out (default bench_runs/<flow>), one folder per key: the model, endpoint, flow
config, sampling, problem sources and judge settings. The same settings again continue their run
(its records are reused, and the summary says how many and from which run); changed settings start
a new folder; `--resume RUN` continues a run folder with the settings in its run.json.

Exit codes: 0 the run ended (whatever it solved); 1 it stopped before any problem ran (bad
settings, no problem found, the model check: no key, unknown model, prompt too long for the
context window, an incomplete local model); 3 every attempt of the run failed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

__all__ = ["register"]

_FLOWS = (
    "Code, Code_Reflect, Code_Collab, Code_Debug, Code_Debug_Collab, Plan-Code, Plan_Reflect-Code, "
    "Plan_Collab-Code, Plan_Oracle-Code, Plan_Oracle-Code_Debug_Collab"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = subparsers.add_parser(
        "bench", help="run the competitive-coding benchmark", description=__doc__.splitlines()[0]
    )
    sub = bench.add_subparsers(dest="bench_command", metavar="SUBCOMMAND")

    cc = sub.add_parser("cc", help="run a cc flow over problems and report solve rate and pass@k")
    cc.add_argument("--flow", default=None, help=f"the flow: {_FLOWS} (default Code_Debug)")
    cc.add_argument(
        "--problems",
        action="append",
        default=None,
        metavar="PATH",
        help="a problem package, a folder of packages, a .jsonl file or 'samples' (repeatable)",
    )
    cc.add_argument("--limit", type=int, default=None, help="at most this many problems per --problems source")
    cc.add_argument(
        "--model", default=None, help="model string (sets AIFLOWS_MODEL), e.g. openai/gpt-4o-mini, hf:, local:/path"
    )
    cc.add_argument("--api-base", default=None, help="OpenAI-compatible endpoint for the model (sets AIFLOWS_API_BASE)")
    cc.add_argument("-j", "--jobs", type=int, default=2, help="problems run at once (default 2)")
    cc.add_argument("--samples", type=int, default=1, help="attempts per problem; pass@k is reported up to k=samples")
    cc.add_argument(
        "--temperature", type=float, default=None, help="sampling temperature (default 0, or 0.8 with --samples > 1)"
    )
    cc.add_argument(
        "--out", type=Path, default=None, help="the folder of runs (default bench_runs/<flow>); one run folder per key"
    )
    cc.add_argument(
        "--resume", type=Path, default=None, metavar="RUN", help="continue this run folder with the settings it records"
    )
    cc.add_argument("--no-check", action="store_true", help="skip the model check before the run")
    cc.add_argument("--no-cache", action="store_true", help="do not use the LLM response cache")
    cc.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a cc flow config key, e.g. --set debug_rounds=2 (value read as JSON when it parses)",
    )
    cc.add_argument("--time-limit-cap", type=float, default=None, help="clip problems' time limits when scoring")
    cc.add_argument(
        "--attempt-timeout", type=float, default=None, help="give up on one attempt after this many seconds"
    )
    cc.add_argument("--retry-failed", action="store_true", help="rerun attempts whose record is an error")
    cc.add_argument("--no-progress", action="store_true", help="no progress bar")
    cc.set_defaults(func=_cc)

    report = sub.add_parser("report", help="rebuild the report of a benchmark folder from its records")
    report.add_argument("out", type=Path, help="the benchmark's output folder")
    report.set_defaults(func=_report)

    # The demo parses its own options (see `python -m aiflows.bench.demo --help`), so building this
    # parser imports nothing of the benchmark.
    demo = sub.add_parser(
        "demo",
        help="Code_Debug on the shipped sample problems with the local model",
        add_help=False,
        prefix_chars="\0",  # every argument, --help included, goes to the demo's own parser
    )
    demo.add_argument("demo_args", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    demo.set_defaults(func=_demo)

    def _usage(args: argparse.Namespace) -> int:
        bench.print_help()
        return 2

    bench.set_defaults(func=_usage)


def _parse_sets(items: list[str]) -> dict[str, object]:
    import json

    from aiflows.exceptions import ConfigError

    out: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, not {item!r}", key=item)
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def _cc(args: argparse.Namespace) -> int:
    import asyncio

    from pydantic import ValidationError

    from aiflows.bench import BenchConfig, run_bench
    from aiflows.bench.cli_output import all_failed_line, print_summary
    from aiflows.bench.runs import resume_config, run_folder
    from aiflows.exceptions import ConfigError
    from aiflows.flow import describe_errors

    free = {
        "limit": args.limit,
        "jobs": args.jobs,
        "cache": "off" if args.no_cache else None,
        "attempt_timeout_s": args.attempt_timeout,
        "retry_failed": args.retry_failed or None,
        "progress": not args.no_progress and sys.stderr.isatty(),
        "preflight": not args.no_check,
    }
    fixed = {
        "flow": args.flow,
        "model": args.model,
        "api_base": args.api_base,
        "samples": args.samples,
        "temperature": args.temperature,
        "flow_config": _parse_sets(args.set) or None,
        "time_limit_cap": args.time_limit_cap,
    }
    # One variable retargets every chat flow in the composition (and keys the run).
    if args.model:
        os.environ["AIFLOWS_MODEL"] = args.model
    if args.api_base:
        os.environ["AIFLOWS_API_BASE"] = args.api_base
    try:
        if args.resume is not None:
            base = args.out or Path("bench_runs") / (args.flow or "Code_Debug")
            run = args.resume if args.resume.exists() else base / args.resume  # a folder, or a run's name
            if args.problems:
                fixed["problems"] = args.problems
            config = resume_config(run, {**fixed, **free})
            if config.model:  # the run's own model and endpoint, whatever this shell says
                os.environ["AIFLOWS_MODEL"] = config.model
                os.environ["AIFLOWS_API_BASE"] = config.api_base or ""
        else:
            if not args.problems:
                raise ConfigError("bench cc: give --problems PATH (or 'samples'), or --resume RUN", key="problems")
            given = {k: v for k, v in {**fixed, **free}.items() if v is not None}
            config = BenchConfig(problems=args.problems, **given)
            config = run_folder(config, args.out or Path("bench_runs") / config.flow)
    except ValidationError as exc:
        raise ConfigError(f"bench cc: {describe_errors(exc)}") from None
    result = asyncio.run(run_bench(config))
    print_summary(result)
    if result.all_failed:
        print(all_failed_line(result), file=sys.stderr)
        return 3
    return 0


def _report(args: argparse.Namespace) -> int:
    from aiflows.bench import write_report
    from aiflows.bench.cli_output import summary_lines
    from aiflows.bench.records import RecordFile
    from aiflows.exceptions import ConfigError

    if not RecordFile(args.out).path.is_file():
        raise ConfigError(f"no records.jsonl in {args.out}: nothing to report", file=str(args.out))
    for line in summary_lines(write_report(args.out)):
        print(line)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from aiflows.bench.demo import main

    return main(args.demo_args, prog="aiflows bench demo")


if __name__ == "__main__":
    from aiflows.cli import main

    sys.exit(main(["bench", *sys.argv[1:]]))
