"""The public API is what the package root exports, and every exported name exists."""

from __future__ import annotations

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
