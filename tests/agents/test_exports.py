"""The packages' `__all__` lists exactly their public names, sorted, and each name exists."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("name", ["agents", "agents.tools", "agents.modules", "agents.eval"])
def test_all_matches_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=str.lower) or exported == sorted(exported)
    assert all(hasattr(module, n) for n in exported)
    public = {n for n, v in vars(module).items() if not n.startswith("_") and not getattr(v, "__file__", None)}
    public -= {"annotations"}
    assert public == set(exported)
