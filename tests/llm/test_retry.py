"""Key rotation bookkeeping, with a clock the test controls."""

from __future__ import annotations

import pytest

from aiflows.llm import KeyPool


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_least_recently_used_first() -> None:
    clock = Clock()
    pool = KeyPool(["a", "b", "c"], clock=clock)
    order = []
    for _ in range(5):
        key, wait = pool.acquire()
        order.append(key)
        assert wait == 0
        clock.now += 1
    assert order == ["a", "b", "c", "a", "b"]


def test_rested_key_is_skipped_until_its_cooldown_ends() -> None:
    clock = Clock()
    pool = KeyPool(["a", "b"], cooldown_s=10, clock=clock)
    pool.rest("a")
    assert pool.resting() == 1
    assert [pool.acquire()[0] for _ in range(3)] == ["b", "b", "b"]
    clock.now += 10
    assert pool.acquire()[0] == "a"


def test_all_resting_gives_the_first_back_and_the_wait() -> None:
    clock = Clock()
    pool = KeyPool(["a", "b"], cooldown_s=10, clock=clock)
    pool.rest("a", 5)
    pool.rest("b", 3)
    key, wait = pool.acquire()
    assert (key, wait) == ("b", 3)


def test_keys_stay_out_of_repr_and_empty_pools_are_refused() -> None:
    assert "sk-secret" not in repr(KeyPool(["sk-secret"]))
    with pytest.raises(ValueError):
        KeyPool(["", ""])
