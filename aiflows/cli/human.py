"""`aiflows human` and `aiflows ui`: answer the questions flows put to people.

    aiflows human                          # answer waiting questions here, as they come (Ctrl-C stops)
    aiflows human --session s1 --once      # answer what session s1 waits for, then exit
    aiflows human --redis redis://host:6379/0 --name ada
    aiflows human --resumer                # no questions: resume runs whose questions were answered
    aiflows ui --port 8765                 # a web page: sessions, live traces, answer forms
    aiflows ui --redis redis://host:6379/0 --no-resume
    aiflows ui --host 10.0.0.5 --allow-host ui.example.org   # reachable from the network (token always on)

Both open the same store the flows run with (the SQLite run store by default, or Redis), so a
question asked by a worker elsewhere shows up here. After an answer the run is resumed from this
process, unless --no-resume (workers elsewhere resume it) is given.

`aiflows ui` prints the URL to open, with the server's secret token (`/?token=...`); every page,
API call and the websocket need it (the browser keeps it in a cookie after the first visit; scripts
send `Authorization: Bearer <token>`). Give a token with --token or $AIFLOWS_UI_TOKEN, else a new
one is made on each start.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from ._aio import run_async

__all__ = ["register"]


def register(sub: Any) -> None:
    human = sub.add_parser("human", help="answer the questions flows ask, in this terminal")
    human.add_argument("--session", default=None, help="only questions of this session (default: all)")
    human.add_argument("--name", default=None, help="who is answering, recorded with each answer (default: $USER)")
    human.add_argument(
        "--once", action="store_true", help="answer what is waiting, then exit instead of waiting for more"
    )
    human.add_argument(
        "--resumer",
        action="store_true",
        help="ask nothing: resume runs whose questions were answered or timed out (with --once: until none is due)",
    )
    _common(human)
    human.set_defaults(func=cmd_human)

    ui = sub.add_parser("ui", help="serve a web page to watch runs and answer questions")
    ui.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1, loopback only)")
    ui.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    ui.add_argument(
        "--token",
        default=None,
        help="the secret every request must carry (default $AIFLOWS_UI_TOKEN, else a random one printed in the URL)",
    )
    ui.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host name the page is reached by (e.g. a DNS name for --host 0.0.0.0); repeatable",
    )
    _common(ui)
    ui.set_defaults(func=cmd_ui)


def _common(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--store", default=None, help="the SQLite run store (default $AIFLOWS_HOME/runs.db)")
    where.add_argument("--redis", default=None, metavar="URL", help="use the Redis deployment at URL instead")
    parser.add_argument(
        "--namespace",
        default=os.environ.get("AIFLOWS_NAMESPACE", "aiflows"),
        help="with --redis: the deployment's key prefix (default $AIFLOWS_NAMESPACE or 'aiflows')",
    )
    parser.add_argument("--no-resume", action="store_true", help="only record answers; workers elsewhere resume runs")


def runtime_factory(args: argparse.Namespace) -> Callable[[], Any]:
    """What builds the runtime for the chosen store: SQLite file, or Redis bus and store."""
    from ..runtime import Runtime, SqliteStore, default_store_path

    if args.redis:
        from ..exceptions import ConfigError

        try:
            from ..bus.redis import RedisBus
            from ..runtime.store.redis import RedisStore
        except ImportError as exc:
            raise ConfigError(f"--redis needs the Redis transport, which cannot be imported here: {exc}") from None
        url, namespace = args.redis, args.namespace
        return lambda: Runtime(bus=RedisBus(url, namespace=namespace), store=RedisStore(url, namespace=namespace))
    path = args.store or default_store_path()
    return lambda: Runtime(store=SqliteStore(path))


def cmd_human(args: argparse.Namespace) -> int:
    from ..human import HumanDesk, UnknownRequest
    from ..human.terminal import TerminalChannel

    name = args.name or os.environ.get("USER") or "terminal"

    async def go() -> int:
        async with runtime_factory(args)() as runtime:
            desk = HumanDesk(runtime)
            if args.resumer:
                return await _resume(desk, once=args.once)
            if args.session is not None:
                try:
                    await desk.check_session(args.session)
                except UnknownRequest as exc:
                    if args.once:
                        raise
                    print(f"UnknownRequest: {exc}; waiting for it to appear", file=sys.stderr)
            channel = TerminalChannel(desk, name=name, resume=not args.no_resume)
            await channel.attach(session=args.session, once=args.once)
        return 0

    try:
        return run_async(go())
    except KeyboardInterrupt:
        return 130


async def _resume(desk: Any, *, once: bool) -> int:
    if not once:
        print("resuming runs as their questions are answered (Ctrl-C to stop)", file=sys.stderr, flush=True)
        await desk.serve()
        return 0
    for result in await desk.resume_due():
        print(f"run {result.run_id} {result.status}", flush=True)
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    from ..exceptions import ConfigError

    try:
        import uvicorn

        from ..human import web
    except ImportError as exc:
        raise ConfigError(
            f"the web page needs starlette, uvicorn and websockets ({exc}): pip install starlette uvicorn websockets"
        ) from None
    token = web.ui_token(args.token)
    hosts = web.allowed_hosts(args.host, args.port, args.allow_host)
    app = web.create_app(runtime_factory(args), token=token, allowed_hosts=hosts, resume=not args.no_resume)
    if not web.is_loopback(args.host):
        print(
            f"warning: aiflows ui listens on {args.host}, not only loopback: anyone who can reach {args.host}:{args.port} "
            f"and has the token can answer your flows' questions (Host names answered: {', '.join(hosts)})",
            file=sys.stderr,
            flush=True,
        )
    print(f"aiflows ui on {web.browse_url(args.host, args.port, token)}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws="auto")
    return 0


if __name__ == "__main__":
    from . import main

    sys.exit(main())
