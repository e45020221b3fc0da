"""Transports between flows: `LocalBus` in-process (the default) and `RedisBus` across processes."""

from .base import Bus, EventListener, Handler
from .local import LocalBus

__all__ = ["Bus", "EventListener", "Handler", "LocalBus"]
