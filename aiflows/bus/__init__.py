"""Transports between flows: `LocalBus` in-process (the default) and `RedisBus` across processes.

`RedisBus` and its companions load redis-py only when first used, so `import aiflows` stays fast.
"""

from typing import Any

from .base import Bus, EventListener, Handler
from .deadline import current_deadline, within
from .local import LocalBus

__all__ = [
    "Bus",
    "EventListener",
    "Handler",
    "LocalBus",
    "RedisBus",
    "RedisBusError",
    "RedisBusSettings",
    "RedisTLS",
    "current_deadline",
    "within",
]

_LAZY = {"RedisBus", "RedisBusError", "RedisBusSettings", "RedisTLS"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import redis

        return getattr(redis, name)
    raise AttributeError(f"module 'aiflows.bus' has no attribute '{name}'")
