"""The public API is what the package root exports, and every exported name exists."""

from __future__ import annotations

import subprocess
import sys

import aiflows


def test_all_names_exist_and_are_sorted():
    for name in aiflows.__all__:
        assert hasattr(aiflows, name), name
    assert aiflows.__all__ == sorted(aiflows.__all__)


def test_public_classes_are_exported():
    public = {
        name
        for name, value in vars(aiflows).items()
        if not name.startswith("_") and isinstance(value, type) and value.__module__.startswith("aiflows")
    }
    assert public <= set(aiflows.__all__)


def test_redis_classes_are_exported_without_importing_redis():
    from aiflows.bus import RedisBus
    from aiflows.runtime.store import RedisStore

    assert aiflows.RedisBus is RedisBus and aiflows.RedisStore is RedisStore
    check = "import sys, aiflows; print(sorted(m for m in sys.modules if m == 'redis' or m.startswith('redis.')))"
    loaded = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
