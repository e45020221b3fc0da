"""`aiflows run`, `resume`, `trace` and `runs`: the embedded runtime from the shell.

`resume` and `trace` also take `--redis URL [--namespace NS]`, for runs served by `aiflows serve`
workers: the run is read from Redis and a resume is answered by the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ._aio import run_async
from ._deployment import redis_options, redis_runtime

__all__ = ["register"]


def register(sub: Any) -> None:
    run = sub.add_parser("run", help="run a flow from a YAML file or a module:Flow reference")
    run.add_argument("target", help="path/to/flow.yaml, or module:attribute naming a Flow, Flow class or function")
    run.add_argument("--input", default=None, help="the input as JSON (default {})")
    run.add_argument("--input-file", default=None, help="read the input JSON from this file")
    run.add_argument("--session", default="default", help="the session the flow serves (state is kept per session)")
    run.add_argument("--run-id", default=None, help="use this run id (an existing unfinished one resumes)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a YAML key (dotted)")
    run.add_argument("--model", default=None, help="the model LLM flows use (sets AIFLOWS_MODEL)")
    _store_option(run)
    run.set_defaults(func=cmd_run)

    resume = sub.add_parser("resume", help="finish an interrupted run from its journal")
    resume.add_argument("run_id", help="the run to resume")
    _store_option(resume)
    redis_options(resume, required=False)
    resume.set_defaults(func=cmd_resume)

    trace = sub.add_parser("trace", help="show a run's call tree with timings and errors")
    trace.add_argument("run_id", help="the run to show")
    trace.add_argument("--jsonl", action="store_true", help="print every message of the run as JSON lines")
    _store_option(trace)
    redis_options(trace, required=False)
    trace.set_defaults(func=cmd_trace)

    runs = sub.add_parser("runs", help="list recent runs")
    runs.add_argument("--limit", type=int, default=20, help="how many runs to list")
    _store_option(runs)
    runs.set_defaults(func=cmd_runs)


def _store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=None, help="the SQLite run store (default $AIFLOWS_HOME/runs.db)")


def _runtime(args: argparse.Namespace) -> Any:
    from ..runtime import Runtime, SqliteStore, default_store_path

    if getattr(args, "redis", None):  # a run served by workers: its record, journal and trace are in Redis
        return redis_runtime(args)
    return Runtime(store=SqliteStore(args.store or default_store_path()))


def _read_input(args: argparse.Namespace) -> dict[str, Any]:
    raw = Path(args.input_file).read_text() if args.input_file else (args.input or "{}")
    return parse_input(raw)


def parse_input(raw: str) -> dict[str, Any]:
    """The `--input` of a command: a JSON object, or a ConfigError saying what it is instead."""
    from ..exceptions import ConfigError

    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--input is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"--input must be a JSON object, not {type(value).__name__}")
    return value


def _finish(result: Any) -> int:
    print(f"run {result.run_id} {result.status}", file=sys.stderr)
    if result.status == "suspended":
        print(
            f"waiting for a person: answer with `aiflows human` or `aiflows ui`; the run resumes once answered "
            f"(or `aiflows resume {result.run_id}`)",
            file=sys.stderr,
        )
        return 3
    if result.error is not None:
        print(
            f"FlowError: {result.error.type} in flow '{result.error.address}': {result.error.message}", file=sys.stderr
        )
        return 1
    print(json.dumps(result.output, indent=2, default=str))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from ..loader import build_from_spec, target_spec

    if args.model:
        os.environ["AIFLOWS_MODEL"] = args.model
    spec = target_spec(args.target, args.set)
    flow = build_from_spec(spec)
    data = _read_input(args)

    async def go() -> Any:
        async with _runtime(args) as rt:
            from ..messages import new_id

            run_id = args.run_id or new_id()
            print(f"run {run_id} started", file=sys.stderr, flush=True)
            return await rt.run(flow, data, session=args.session, run_id=run_id, spec=spec)

    return _finish(run_async(go()))


def cmd_resume(args: argparse.Namespace) -> int:
    from ..loader import build_from_spec

    async def go() -> Any:
        async with _runtime(args) as rt:
            record = await rt.get_run(args.run_id)
            if record.status != "done" and not args.redis:  # over Redis the workers serve the address
                await rt.host(build_from_spec(record.spec), record.address)
            return await rt.resume(args.run_id)

    return _finish(run_async(go()))


def cmd_trace(args: argparse.Namespace) -> int:
    from ..runtime.trace import render_tree, trace_messages

    async def go() -> tuple[Any, Any, Any]:
        async with _runtime(args) as rt:
            record = await rt.get_run(args.run_id)
            return record, await rt.store.spans(args.run_id), await rt.store.events(args.run_id)

    record, spans, events = run_async(go())
    if args.jsonl:
        for row in trace_messages(spans, events):
            print(json.dumps(row, default=str))
        return 0
    from rich.console import Console

    Console().print(render_tree(record, spans, events))
    return 0


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _models(events: list[Any]) -> str:
    """The models a run called, from its `llm.usage` events ('-' when it called none)."""
    seen = dict.fromkeys(
        str(e.data.get("model")) for e in events if e.data.get("type") == "llm.usage" and e.data.get("model")
    )
    return ", ".join(seen) or "-"


def cmd_runs(args: argparse.Namespace) -> int:
    import time

    async def go() -> Any:
        async with _runtime(args) as rt:
            records = await rt.store.list_runs(args.limit)
            return [(record, _models(await rt.store.events(record.run_id))) for record in records]

    rows = [("RUN", "STARTED", "DURATION", "STATUS", "FLOW", "SESSION", "MODEL")]
    errors: list[str] = []
    now = time.time()
    for record, models in run_async(go()):
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created_at))
        end = record.finished_at or (now if record.status == "running" else None)
        duration = _duration(end - record.created_at) if end is not None else "-"
        rows.append((record.run_id, started, duration, record.status, record.address, record.session, models))
        errors.append(f"{record.error.type}: {record.error.message[:80]}" if record.error else "")
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for n, row in enumerate(rows):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        error = errors[n - 1] if n else ""
        print(f"{line}  {error}".rstrip())
    return 0
