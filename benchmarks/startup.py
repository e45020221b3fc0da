"""Start-up cost: `import aiflows` and `aiflows --help`, each minus a bare `python -c pass`.

    python benchmarks/startup.py [--repeats 21]

Every command runs in a fresh interpreter, interleaved with the others, `--repeats` times; each
figure is the median wall time. Peers, when installed, are measured the same way: `import langgraph`
and `import autogen_core` (what a user of those pays before the first line of their own code).

Goal on a 2-core machine: at most 0.12 s over bare Python for each of ours. The last line is
`RESULT import_over_bare_s=... help_over_bare_s=... bare_s=... [langgraph_over_bare_s=...] ...`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOAL_S = 0.12


def _commands() -> dict[str, list[str]]:
    python = [sys.executable, "-E"]  # -E: no PYTHON* variables from the shell
    commands = {
        "bare": [*python, "-c", "pass"],
        "import": [*python, "-c", "import aiflows"],
        # What the `aiflows` console script does: import the CLI and print the help.
        "help": [*python, "-c", "import sys; from aiflows.cli import main; sys.exit(main(['--help']))"],
    }
    for peer in ("langgraph", "autogen_core"):
        if importlib.util.find_spec(peer) is not None:
            commands[peer] = [*python, "-c", f"import {peer}"]
    return commands


def _time(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="runs of each command (the median counts)")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    commands = _commands()
    for command in commands.values():  # warm the file cache and bytecode once
        _time(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeats):
        for name, command in commands.items():
            times[name].append(_time(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    bare = median["bare"]
    for name, value in median.items():
        over = value - bare
        goal = f"  (goal <= {GOAL_S:.2f} s over bare)" if name in ("import", "help") else ""
        print(f"{name:14} median {value:.3f} s   over bare {over:+.3f} s{goal}")
    fields = [f"{name}_over_bare_s={median[name] - bare:.3f}" for name in median if name != "bare"]
    ok = all(median[name] - bare <= GOAL_S for name in ("import", "help"))
    print(f"RESULT {' '.join(fields)} bare_s={bare:.3f} goal_s={GOAL_S} within_goal={int(ok)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
