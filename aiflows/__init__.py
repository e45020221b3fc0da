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

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # for type checkers and editors; at run time they come from __getattr__ below
    from . import bus as bus
    from .bus import Bus, LocalBus
    from .bus.redis import RedisBus
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
    from .runtime.store.redis import RedisStore

# Where each public name lives. `import aiflows` loads none of them (nor pydantic): a name is
# imported on first use, so the command line and `import aiflows` start fast.
_HOME = {
    "Bus": "bus",
    "LocalBus": "bus",
    "RedisBus": "bus",
    "Branch": "compose",
    "Loop": "compose",
    "Map": "compose",
    "Parallel": "compose",
    "Sequential": "compose",
    "Step": "compose",
    "Context": "context",
    "AiflowsError": "exceptions",
    "ConfigError": "exceptions",
    "FlowError": "exceptions",
    "FlowTimeout": "exceptions",
    "MessageError": "exceptions",
    "RunNotFound": "exceptions",
    "SchemaError": "exceptions",
    "Suspended": "exceptions",
    "AtomicFlow": "flow",
    "CompositeFlow": "flow",
    "Data": "flow",
    "Flow": "flow",
    "FunctionFlow": "flow",
    "flow": "flow",
    "Extract": "keymap",
    "KeyMap": "keymap",
    "load_flow": "loader",
    "ErrorInfo": "messages",
    "Message": "messages",
    "MemoryStore": "runtime",
    "RunRecord": "runtime",
    "RunResult": "runtime",
    "Runtime": "runtime",
    "SqliteStore": "runtime",
    "Store": "runtime",
    "RedisStore": "runtime.store",
}

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


class _Package(ModuleType):
    """The package module: the import system binds each submodule onto it as it loads, which would
    make `aiflows.flow` the module `aiflows/flow.py` instead of the `flow` decorator it exports."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _HOME.get(name) is not None and name in __all__:
            return  # the public name wins; the submodule stays reachable through sys.modules
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    """Import a public name (or a subpackage such as `aiflows.bus`) on first use, then keep it."""
    home = _HOME.get(name)
    if home is None:
        try:
            value: Any = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'aiflows' has no attribute '{name}'") from None
    else:
        value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
