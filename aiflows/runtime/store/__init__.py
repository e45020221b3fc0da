"""Stores for runs, journals, state and traces (`RedisStore` loads redis-py when first used)."""

from typing import Any

from .base import Store
from .memory import MemoryStore
from .sqlite import SqliteStore

__all__ = ["MemoryStore", "RedisStore", "SqliteStore", "Store"]


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from .redis import RedisStore

        return RedisStore
    raise AttributeError(f"module 'aiflows.runtime.store' has no attribute '{name}'")
