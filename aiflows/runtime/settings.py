"""Where aiflows keeps its files, read from the environment once per runtime."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["aiflows_home", "default_store_path"]


def aiflows_home() -> Path:
    """`$AIFLOWS_HOME`, or `~/.aiflows`: runs, caches and hub data live under it."""
    return Path(os.environ.get("AIFLOWS_HOME") or Path.home() / ".aiflows")


def default_store_path() -> Path:
    return aiflows_home() / "runs.db"
