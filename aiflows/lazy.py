"""Lazy package exports (PEP 562): a package names where each public name lives and imports it on first use.

A package whose import must stay light (one that `aiflows --help` reaches to register a command)
lists its public names in a table instead of importing them:

    from typing import TYPE_CHECKING

    from aiflows.lazy import lazy_exports

    if TYPE_CHECKING:  # type checkers and editors see the real names
        from .config import Config

    _EXPORTS = {"Config": ".config"}
    __all__ = ["Config"]
    __getattr__ = lazy_exports(globals(), _EXPORTS)

`package.Config` then imports `package.config` the first time it is read and keeps the value in the
package's namespace, so later reads are plain attribute lookups.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(namespace: MutableMapping[str, Any], exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for the package whose `globals()` is `namespace`.

    Args:
        namespace: the package's `globals()`; each name is stored there once imported.
        exports: public name -> the module that defines it, relative to the package (".config").

    Returns:
        The function to assign to the package's `__getattr__`.

    Raises:
        AttributeError: (from the returned function) for a name the table does not list.
    """
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        namespace[name] = value
        return value

    return __getattr__
