"""`aiflows agent COMMAND`: the commands of the agents built on aiflows.

They live above the library (`agents/`), which the library never imports; each package names its
commands in pyproject.toml's entry points (group `aiflows.agent`, `name = "module:register"`) and
they are found here, as the trainers of `aiflows train` are.

    aiflows agent eval --task kbqa --agent agent.yaml -j 4 --limit 50
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from typing import Any

__all__ = ["register"]

GROUP = "aiflows.agent"


def register(sub: Any) -> None:
    parser = sub.add_parser("agent", help="agents: evaluate an agent on a task (needs the agents package)")
    commands = parser.add_subparsers(dest="agent_command", metavar="COMMAND")
    found = 0
    for entry in entry_points(group=GROUP):
        try:
            entry.load()(commands)
            found += 1
        except ImportError as exc:  # a broken install must not take the whole CLI down
            print(f"aiflows agent: cannot load '{entry.name}' ({entry.value}): {exc}", file=sys.stderr)
    if not found:
        parser.set_defaults(func=lambda args: _none())
    else:
        parser.set_defaults(func=lambda args: parser.print_help() or 2)


def _none() -> int:
    print("no agent commands are installed: `pip install -e .` in the aiflows checkout", file=sys.stderr)
    return 2
