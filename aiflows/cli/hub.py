"""`aiflows hub`: make, check, publish, pull and use shared flows.

aiflows hub new ada/greeter ./greeter          # scaffold a flow folder that passes `check`
aiflows hub check ./greeter                    # validate flow.yaml and run the flow's tests
aiflows hub publish ./greeter --to git://host/ada/greeter.git   # check, tag v<version>, push
aiflows hub pull ada/greeter@">=1,<2" --source "git=file:///srv/flows/{owner}/{name}.git"
aiflows hub sync                               # fetch exactly what flows.lock pins
aiflows hub trust ada/greeter                  # trust the content flows.lock pins (after reading it)
aiflows hub override ada/greeter ./greeter     # develop against a working copy
aiflows hub list | show ada/greeter | search greet
aiflows hub index flows_hub [--check]          # (re)generate or verify an index.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiflows.hub import FlowInfo, Hub

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub` and its subcommands."""
    hub = subparsers.add_parser("hub", help="share and reuse flows: new, check, publish, pull, sync, list, ...")
    sub = hub.add_subparsers(dest="hub_command", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--project",
        type=Path,
        default=None,
        help="project folder holding hub.yaml and flows.lock (default: the nearest one at or above the "
        "current folder, else the current folder)",
    )
    common.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="SOURCE",
        help="extra source, tried first: KIND=LOCATION with KIND git|folder|index|hf, "
        "or a git URL template such as 'file:///srv/{owner}/{name}.git' (repeatable)",
    )

    p = sub.add_parser("new", help="scaffold a hub flow folder")
    p.add_argument("name", help="owner/name of the new flow")
    p.add_argument("dir", nargs="?", type=Path, default=None, help="folder to create (default: ./<name>)")
    p.add_argument("--description", default="", help="one-line description for flow.yaml")
    p.set_defaults(func=_new)

    p = sub.add_parser("check", help="validate a flow folder and run its tests")
    p.add_argument("path", type=Path, help="the flow folder")
    p.add_argument("--no-tests", action="store_true", help="validate only; do not run the tests")
    p.set_defaults(func=_check)

    p = sub.add_parser("publish", parents=[common], help="check, tag v<version> and push a flow folder")
    p.add_argument("path", type=Path, help="the flow folder")
    p.add_argument("--to", required=True, dest="remote", help="git remote URL or path to push to")
    p.add_argument("--no-tests", action="store_true", help="do not run the flow's tests first")
    p.set_defaults(func=_publish)

    p = sub.add_parser("pull", parents=[common], help="resolve, fetch and lock flows (runs no code)")
    p.add_argument("refs", nargs="+", metavar="REF", help="owner/name[@REV]: REV a tag, branch, commit or '>=1.2,<2'")
    p.add_argument(
        "--trust",
        action="store_true",
        help="trust the content hashes of the flows named here and of their dependencies",
    )
    p.set_defaults(func=_pull)

    p = sub.add_parser("sync", parents=[common], help="fetch exactly what flows.lock pins")
    p.set_defaults(func=_sync)

    p = sub.add_parser(
        "trust", parents=[common], help="trust the content hashes flows.lock pins for a flow and its dependencies"
    )
    p.add_argument("name", help="owner/name, as locked in flows.lock")
    p.set_defaults(func=_trust)

    p = sub.add_parser("override", parents=[common], help="use a working copy for a flow (or --remove)")
    p.add_argument("name", help="owner/name to override")
    p.add_argument("path", nargs="?", type=Path, default=None, help="the working copy folder")
    p.add_argument("--remove", action="store_true", help="drop the override")
    p.set_defaults(func=_override)

    p = sub.add_parser("list", parents=[common], help="flows in the sources, the lock and the cache")
    p.set_defaults(func=_list)

    p = sub.add_parser("show", parents=[common], help="one flow's manifest, versions, lock pin and trust")
    p.add_argument("ref", help="owner/name")
    p.set_defaults(func=_show)

    p = sub.add_parser("search", parents=[common], help="flows whose name or description contains TERM")
    p.add_argument("term", help="text to look for")
    p.set_defaults(func=_search)

    p = sub.add_parser("index", help="write (or --check) DIR/index.yaml describing the flows under DIR")
    p.add_argument("dir", type=Path, help="folder of flow folders, e.g. flows_hub")
    p.add_argument("--check", action="store_true", help="fail if index.yaml does not match the folders")
    p.set_defaults(func=_index)


def _hub(args: argparse.Namespace) -> Hub:
    from aiflows.hub import Hub, parse_source

    return Hub(args.project, sources=[parse_source(s) for s in args.source])


def _new(a: argparse.Namespace) -> int:
    from aiflows.hub import new_flow

    folder = new_flow(a.name, a.dir, description=a.description)
    print(f"created {a.name} in {folder}; next: aiflows hub check {folder}")
    return 0


def _check(a: argparse.Namespace) -> int:
    from aiflows.hub import check_flow

    report = check_flow(a.path, run_tests=not a.no_tests)
    m = report.manifest
    print(f"ok {m.name} {m.version} hash {report.hash}\ntests: {report.tests}")
    return 0


def _publish(a: argparse.Namespace) -> int:
    from aiflows.hub import publish_flow

    res = publish_flow(a.path, a.remote, run_tests=not a.no_tests, protocols=_hub(a).config.allowed_protocols)
    verb = "published" if res.pushed else "already published (same content)"
    print(f"{verb} {res.name} {res.version} as {res.tag} ({res.commit[:12]}) to {a.remote}")
    return 0


def _pull(a: argparse.Namespace) -> int:
    hub = _hub(a)
    lock = hub.pull(a.refs, trust=a.trust)
    for name, f in lock.flows.items():
        print(f"{name} {f.version} {(f.commit or '')[:12] or '-'} {f.hash[:12]} {f.location}")
    print(f"wrote {hub.lock_path}")
    return 0


def _sync(a: argparse.Namespace) -> int:
    hub = _hub(a)
    lock = hub.sync()
    print(f"{len(lock.flows)} flows match {hub.lock_path}")
    return 0


def _trust(a: argparse.Namespace) -> int:
    hub = _hub(a)
    for name, digest in hub.trust(a.name).items():
        print(f"trusted {name} {digest}")
    print(f"wrote {hub.project / 'hub.yaml'}")
    return 0


def _override(a: argparse.Namespace) -> int:
    from aiflows.hub import HubError

    if a.remove == (a.path is not None):
        raise HubError("hub override: give either PATH or --remove")
    hub = _hub(a)
    hub.override(a.name, None if a.remove else a.path)
    print(f"{a.name}: " + ("override removed" if a.remove else f"now loads from {a.path.resolve()}"))
    return 0


def _print_rows(rows: Sequence[FlowInfo]) -> int:
    for r in rows:
        print(f"{r.name:30} {r.version:10} {r.where:14} {r.description}")
    return 0


def _list(a: argparse.Namespace) -> int:
    from aiflows.hub import list_flows

    return _print_rows(list_flows(_hub(a)))


def _search(a: argparse.Namespace) -> int:
    from aiflows.hub import search_flows

    rows = search_flows(_hub(a), a.term)
    if not rows:
        print(f"no flow matches {a.term!r}", file=sys.stderr)
        return 1
    return _print_rows(rows)


def _show(a: argparse.Namespace) -> int:
    from aiflows.hub import show_flow

    print(json.dumps(show_flow(_hub(a), a.ref), indent=2, default=str))
    return 0


def _index(a: argparse.Namespace) -> int:
    from aiflows.hub import check_index, write_index

    if a.check:
        index = check_index(a.dir)
        print(f"{a.dir / 'index.yaml'} is up to date ({len(index.flows)} flows)")
    else:
        print(f"wrote {write_index(a.dir)}")
    return 0


if __name__ == "__main__":
    from aiflows.cli import main

    sys.exit(main(["hub", *sys.argv[1:]]))
