"""A hint that travels with a run's first execution: nothing of this run is journaled yet.

Loading a run's journal costs a Redis round trip per request on a worker. A run that has just
started has no journal, so the store that created it marks it, the bus stamps the hint on the
run's requests, and the worker's store skips the load. A redelivered request never carries it,
so a worker that takes over a run (or a resume) reads the journal as usual.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

__all__ = ["fresh_run", "is_fresh", "mark_fresh"]

_fresh: ContextVar[str | None] = ContextVar("aiflows_fresh_run", default=None)


def mark_fresh(run_id: str | None) -> Token[str | None]:
    """Say that `run_id` (None: no run) is in its first execution, in this task's context."""
    return _fresh.set(run_id)


def is_fresh(run_id: str) -> bool:
    return _fresh.get() == run_id


def fresh_run() -> str | None:
    return _fresh.get()
