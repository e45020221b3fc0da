"""aiflows.human's public names: all exist, sorted, every public class exported; importing it stays light."""

from __future__ import annotations

import subprocess
import sys

from aiflows import human
from aiflows.human import web


def test_all_names_exist_and_are_sorted() -> None:
    for module in (human, web):
        for name in module.__all__:
            assert hasattr(module, name), name
        assert module.__all__ == sorted(module.__all__)


def test_public_classes_are_exported() -> None:
    public = {
        name
        for name, value in vars(human).items()
        if not name.startswith("_") and isinstance(value, type) and value.__module__.startswith("aiflows.human")
    }
    assert public <= set(human.__all__)


def test_importing_it_loads_no_web_server_or_model_library() -> None:
    code = "import sys, aiflows.human; print(sorted(m for m in ('starlette', 'uvicorn', 'litellm', 'torch', 'redis') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
