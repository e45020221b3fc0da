"""Timing one call the way the benchmarks report it: wall-clock and this process's CPU seconds.

CPU seconds are reported beside wall time because on a busy machine they swing far less. On a GPU,
pass `sync` (e.g. `torch.cuda.synchronize`): kernels run asynchronously, so without a sync point on
both sides the clock would stop before the work is done.

    run = timed(trainer.train)
    print(f"{rows / run.seconds:.1f} rows/s, {rows / run.cpu_seconds:.1f} rows per CPU second")
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, TypeVarTuple

__all__ = ["Timed", "timed"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


@dataclass(frozen=True)
class Timed(Generic[T]):
    """What a timed call returned and how long it took."""

    value: T
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU time (all threads)


def timed(fn: Callable[[*Ts], T], *args: *Ts, sync: Callable[[], None] | None = None) -> Timed[T]:
    """Call `fn(*args)` and time it; `sync` runs just before the clocks start and before they stop.

    Args:
        fn: what to time, with its arguments after it.
        sync: waits for outstanding device work, so it is neither counted nor missed.

    Returns:
        `fn`'s value with the wall-clock and CPU seconds of the call.
    """
    if sync is not None:
        sync()
    started, cpu = time.perf_counter(), time.process_time()
    value = fn(*args)
    if sync is not None:
        sync()
    return Timed(value, time.perf_counter() - started, time.process_time() - cpu)
