"""`asyncio.run` for the commands, imported when one runs: `aiflows --help` need not load asyncio."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_async"]

T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a new event loop (as `asyncio.run`)."""
    import asyncio

    return asyncio.run(main)
