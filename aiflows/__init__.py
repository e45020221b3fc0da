"""aiflows: build AI systems out of Flows.

A flow has a name, pydantic schemas for what goes in and out, state of its own and a handler.
Flows talk only through messages on a bus, in one process (`LocalBus`, the default) or across
machines (`RedisBus`); composites call subflows and are flows themselves.

    from aiflows import Sequential, flow

    @flow
    def double(x: int) -> dict:
        return {"x": x * 2}

    Sequential(double, double, name="quad").run_sync({"x": 1})  # {"x": 4}
"""

from typing import TYPE_CHECKING, Any

from . import bus
from ._version import __version__
from .bus import Bus, LocalBus
from .compose import Branch, Loop, Map, Parallel, Sequential, Step
from .context import Context
from .exceptions import (
    AiflowsError,
    ConfigError,
    FlowError,
    FlowTimeout,
    MessageError,
    RunNotFound,
    SchemaError,
    Suspended,
)
from .flow import AtomicFlow, CompositeFlow, Data, Flow, FunctionFlow, flow
from .keymap import Extract, KeyMap
from .loader import load_flow
from .messages import ErrorInfo, Message
from .runtime import MemoryStore, RunRecord, RunResult, Runtime, SqliteStore, Store
from .runtime import store as _store

if TYPE_CHECKING:  # for type checkers and editors; at run time they come from __getattr__ below
    from .bus.redis import RedisBus
    from .runtime.store.redis import RedisStore

__all__ = [
    "AiflowsError",
    "AtomicFlow",
    "Branch",
    "Bus",
    "CompositeFlow",
    "ConfigError",
    "Context",
    "Data",
    "ErrorInfo",
    "Extract",
    "Flow",
    "FlowError",
    "FlowTimeout",
    "FunctionFlow",
    "KeyMap",
    "LocalBus",
    "Loop",
    "Map",
    "MemoryStore",
    "Message",
    "MessageError",
    "Parallel",
    "RedisBus",
    "RedisStore",
    "RunNotFound",
    "RunRecord",
    "RunResult",
    "Runtime",
    "SchemaError",
    "Sequential",
    "SqliteStore",
    "Step",
    "Store",
    "Suspended",
    "__version__",
    "flow",
    "load_flow",
]


def __getattr__(name: str) -> Any:
    """`RedisBus` and `RedisStore` load redis-py when first used, so `import aiflows` stays fast."""
    if name == "RedisBus":
        return bus.RedisBus
    if name == "RedisStore":
        return _store.RedisStore
    raise AttributeError(f"module 'aiflows' has no attribute '{name}'")
