"""The bus package's public names all resolve, and redis-py loads only when the Redis bus is used."""

from __future__ import annotations

import subprocess
import sys

import aiflows.bus


def test_all_names_resolve() -> None:
    for name in aiflows.bus.__all__:
        assert getattr(aiflows.bus, name) is not None, name


def test_import_aiflows_does_not_load_redis() -> None:
    code = "import sys, aiflows, aiflows.bus, aiflows.runtime; print('redis' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
