"""`aiflows serve`, `call` and `status`: workers and callers on a Redis deployment.

aiflows serve examples.custom_composite:write_review --redis redis://localhost:6379/0
aiflows serve pipeline.yaml --redis URL --exclude 'word_pipeline/*'     # subflows served elsewhere
aiflows call write_review --input '{"topic": "flows"}' --redis URL --timeout 30
aiflows call write_review --input '{"topic": "flows"}' --redis URL --send   # do not wait
aiflows status --redis URL [--json]                     # also the deadline, timeouts and attempts in force
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ._aio import run_async
from ._deployment import redis_options, tls_of
from .run import parse_input

if TYPE_CHECKING:
    from ..runtime import Runtime

__all__ = ["register"]


def register(sub: Any) -> None:
    serve = sub.add_parser("serve", help="serve a flow over Redis (start several for more capacity)")
    serve.add_argument("target", help="path/to/flow.yaml, or module:attribute naming a Flow, Flow class or function")
    serve.add_argument("--address", default=None, help="the address to serve it at (default: the flow's name)")
    serve.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="GLOB",
        help="serve only these addresses of the flow tree (repeatable; e.g. 'pipeline/*')",
    )
    serve.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="do not serve these addresses: another worker does (repeatable)",
    )
    serve.add_argument(
        "--concurrency",
        type=int,
        default=256,
        help="requests handled at once (with more than 32 addresses, up to one more per 32 further addresses)",
    )
    serve.add_argument(
        "--visibility-timeout",
        type=float,
        default=30.0,
        help="seconds after which a silent worker's requests are taken over",
    )
    serve.add_argument(
        "--max-deliveries", type=int, default=3, help="deliveries (worker deaths) before a request is dead-lettered"
    )
    serve.add_argument("--heartbeat", type=float, default=1.0, help="seconds between liveness updates")
    serve.add_argument(
        "--liveness",
        type=float,
        default=None,
        help="seconds a worker counts as alive after its last heartbeat; then others take over its requests "
        "(default: 3 heartbeats)",
    )
    serve.add_argument(
        "--deadline",
        type=float,
        default=3600.0,
        help="time budget in seconds of a request that came without one (then Timeout and dead-lettered)",
    )
    serve.add_argument(
        "--attempts", type=int, default=3, help="runs of a handler that raises before its request is dead-lettered"
    )
    serve.add_argument(
        "--processed-ttl",
        type=float,
        default=600.0,
        help="seconds an answer is remembered, so a redelivered request is not run twice",
    )
    serve.add_argument("--grace", type=float, default=10.0, help="seconds to finish running requests on shutdown")
    redis_options(serve)
    serve.set_defaults(func=cmd_serve)

    call = sub.add_parser("call", help="call a flow served over Redis and print its output")
    call.add_argument("address", help="the address of the served flow")
    call.add_argument("--input", default="{}", help="the input as a JSON object")
    call.add_argument("--session", default="default", help="the session (state is kept per session)")
    call.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="give up after this many seconds (the worker stops too; default: the bus's deadline, 3600 s)",
    )
    call.add_argument("--send", action="store_true", help="queue the request, print the run id and do not wait")
    call.add_argument("--events", action="store_true", help="print the run's events (e.g. streamed tokens) to stderr")
    redis_options(call)
    call.set_defaults(func=cmd_call)

    status = sub.add_parser("status", help="addresses, workers, pending and dead-lettered requests on Redis")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    redis_options(status)
    status.set_defaults(func=cmd_status)


def run_loop(main: Any) -> Any:
    """Run a worker's event loop: uvloop's when it is installed (the `redis` extra brings it: a no-op
    request is mostly event-loop and socket work, which uvloop does in C), asyncio's otherwise or
    with AIFLOWS_LOOP=asyncio."""
    if os.environ.get("AIFLOWS_LOOP", "auto") != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(main)
    return run_async(main)


def cmd_serve(args: argparse.Namespace) -> int:
    from ..human import HumanDesk
    from ..loader import build_from_spec, target_spec
    from ..runtime.worker import Worker

    async def resume_answered(runtime: Runtime) -> None:
        """Resume runs whose questions to a person were answered, so no separate resumer is needed."""
        await HumanDesk(runtime).serve()

    flow = build_from_spec(target_spec(args.target))
    worker = Worker(
        flow,
        url=args.redis,
        address=args.address,
        only=args.only,
        exclude=args.exclude,
        tls=tls_of(args),
        grace=args.grace,
        services=[resume_answered],
        namespace=args.namespace,
        concurrency=args.concurrency,
        visibility_timeout=args.visibility_timeout,
        max_deliveries=args.max_deliveries,
        heartbeat=args.heartbeat,
        liveness=args.liveness,
        deadline=args.deadline,
        attempts=args.attempts,
        processed_ttl=args.processed_ttl,
    )

    def ready(served: list[str]) -> None:
        print(f"serving {', '.join(served)} as worker {worker.bus.client_id}", file=sys.stderr, flush=True)

    run_loop(worker.run(ready=ready))
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from ..bus.deadline import within
    from ._deployment import redis_runtime

    data = parse_input(args.input)
    runtime = redis_runtime(args)

    def show(event: Any) -> None:
        print(json.dumps(event.data, default=str), file=sys.stderr, flush=True)

    async def go() -> Any:
        async with runtime as rt:
            if args.send:
                return await rt.send(args.address, data, session=args.session)
            on_event = show if args.events else None
            if args.timeout is None:
                return await rt.run(args.address, data, session=args.session, on_event=on_event)
            async with within(args.timeout):
                return await rt.run(args.address, data, session=args.session, on_event=on_event)

    try:
        result = run_async(go())
    except TimeoutError:
        print(f"FlowTimeout: no answer from '{args.address}' within {args.timeout:g} s", file=sys.stderr)
        return 1
    if args.send:
        print(result)
        return 0
    if result.error is not None:
        err = result.error
        print(f"FlowError: {err.type} in flow '{err.address}' (run {result.run_id}): {err.message}", file=sys.stderr)
        return 1
    print(json.dumps(result.output, indent=2, default=str))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ..bus._redis_status import collect_status, render_status

    report = run_async(collect_status(args.redis, namespace=args.namespace, tls=tls_of(args)))
    if args.json:
        print(json.dumps(report.model_dump(), indent=2))
    else:
        render_status(report)
    return 0


if __name__ == "__main__":
    from . import main

    sys.exit(main())
