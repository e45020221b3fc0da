"""When to try a model call again, and which api key to use for it.

Rate limits (429) and transient failures (5xx, timeouts, dropped connections) are retried with
exponential backoff and jitter, bounded both in count and in delay; everything else is final.
Several api keys for one provider are used least-recently-used first, and a key that was rate
limited is put aside for a while, so load spreads over keys instead of hammering the tired one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["KeyPool", "RetryPolicy"]


class RetryPolicy(BaseModel):
    """How many times to retry and how long to wait in between."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_retries: int = Field(default=4, ge=0)  # retries after the first try
    base_delay_s: float = Field(default=0.5, ge=0)  # the first wait; doubles per retry
    max_delay_s: float = Field(default=20.0, ge=0)  # no single wait is longer, Retry-After included

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based).

        Jitter draws from the upper half of the exponential step, so waits stay spread out yet
        never collapse to zero; a server's Retry-After is honoured up to `max_delay_s`.
        """
        cap = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        wait = rng.uniform(cap / 2, cap) if cap > 0 else 0.0
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.max_delay_s)


class KeyPool:
    """Api keys of one provider, handed out least-recently-used first.

    Args:
        keys: the keys (at least one; duplicates are dropped).
        cooldown_s: how long a rate-limited key is put aside.
        clock: a monotonic clock (seconds).

    The keys never appear in `repr` or in error messages.
    """

    def __init__(
        self, keys: Sequence[str], *, cooldown_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        unique = list(dict.fromkeys(k for k in keys if k))
        if not unique:
            raise ValueError("KeyPool needs at least one non-empty key")
        self._keys = unique
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._last_used = {k: float("-inf") for k in unique}
        self._blocked_until = {k: float("-inf") for k in unique}
        self._order = {k: i for i, k in enumerate(unique)}

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyPool({len(self._keys)} keys, cooldown_s={self._cooldown_s})"

    def acquire(self) -> tuple[str, float]:
        """The key to use next and how many seconds to wait before using it (0 unless all rest)."""
        now = self._clock()
        ready = [k for k in self._keys if self._blocked_until[k] <= now]
        if ready:
            key = min(ready, key=lambda k: (self._last_used[k], self._order[k]))
            wait = 0.0
        else:
            key = min(self._keys, key=lambda k: self._blocked_until[k])
            wait = self._blocked_until[key] - now
        self._last_used[key] = now + wait
        return key, wait

    def rest(self, key: str, seconds: float | None = None) -> None:
        """Put `key` aside after a rate limit, for `seconds` or the pool's cooldown."""
        if key in self._blocked_until:
            self._blocked_until[key] = self._clock() + (self._cooldown_s if seconds is None else seconds)

    def resting(self) -> int:
        """How many keys are put aside right now."""
        now = self._clock()
        return sum(1 for until in self._blocked_until.values() if until > now)
