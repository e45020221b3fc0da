"""Importing a hub flow's modules from their `.py` source only, never from cached bytecode.

Python's own loader runs `__pycache__/<module>.cpython-XY.pyc` instead of `<module>.py` whenever the
`.pyc` header records the source's mtime and size, and it runs a lone `<module>.pyc` too: a file
anyone can plant and the content hash never covered. Here every module under a hub package is
compiled from the verified source text, no bytecode is read or written, and a module that has no
`.py` source (an extension module, a sourceless `.pyc`) is not importable.

    register_package("_aiflows_hub_3f2a", folder)   # then import _aiflows_hub_3f2a.flow as usual
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

from typing_extensions import Buffer

__all__ = ["register_package"]


class SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """A `SourceFileLoader` that compiles the source every time and never touches `__pycache__`."""

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)

    def set_data(self, path: str, data: Buffer, *, _mode: int = 0o666) -> None:
        """Write no bytecode (the base class would only cache what `get_code` compiled)."""


class _HubFinder(importlib.abc.MetaPathFinder):
    """Finds `<package>.<module>` for registered hub packages inside their folder, from `.py` files only."""

    def __init__(self) -> None:
        self._roots: dict[str, Path] = {}
        self._lock = threading.Lock()

    def add(self, package: str, folder: Path) -> None:
        with self._lock:
            self._roots[package] = folder

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top, _, rest = fullname.partition(".")
        folder = self._roots.get(top)
        if folder is None or not rest:
            return None
        base = folder.joinpath(*rest.split("."))
        init, module = base / "__init__.py", base.parent / f"{base.name}.py"
        if init.is_file():
            return importlib.util.spec_from_file_location(
                fullname, init, loader=SourceOnlyLoader(fullname, str(init)), submodule_search_locations=[str(base)]
            )
        if module.is_file():
            return importlib.util.spec_from_file_location(
                fullname, module, loader=SourceOnlyLoader(fullname, str(module))
            )
        if base.is_dir():  # a folder without __init__.py: a namespace package, as Python would make it
            spec = importlib.machinery.ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = [str(base)]
            return spec
        raise ModuleNotFoundError(
            f"No module named {fullname!r}: hub flows import only .py source files from {folder}", name=fullname
        )


_FINDER = _HubFinder()


def register_package(package: str, folder: Path) -> ModuleType:
    """Make `package` an importable package over `folder` whose modules load from source only."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    _FINDER.add(package, folder)
    if package not in sys.modules:
        spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
    return sys.modules[package]
