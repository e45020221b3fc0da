"""Shared pieces of the hub attack tests: the hub fixtures (real git repositories, a scratch
AIFLOWS_HOME and project) and running `aiflows` as the user would, in its own process.

Test modules import the fixtures by name (`from .hub_helpers import flowrepos, hub_home, ...`), so
they apply there exactly as in `tests/hub/`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.hub.conftest import (  # noqa: F401 - fixtures are used by name
    FLOW_CODE,
    MARKER_CODE,
    FlowRepos,
    _flowrepos_template,
    flow_files,
    flowrepos,
    git,
    hub_home,
    project,
    write_files,
)

REPO = Path(__file__).resolve().parents[2]


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell, with this checkout's aiflows first on the path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), **extra}


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`aiflows hub ARGS...` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "hub", *args],
        cwd=cwd,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Python `code` in a fresh interpreter (so no module is already imported from an earlier load)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_lock(folder: Path, flows: dict[str, dict[str, object]]) -> Path:
    """A hand-made `flows.lock`, as an attacker would commit it next to their project."""
    path = folder / "flows.lock"
    path.write_text(json.dumps({"lock_version": 1, "requested": sorted(flows), "flows": flows}, indent=2))
    return path
