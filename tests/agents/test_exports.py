"""The packages' `__all__` lists their public names, sorted; each loads (lazily for `agents` and
`agents.eval`, so registering `aiflows agent` stays light)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("name", ["agents", "agents.tools", "agents.modules", "agents.eval"])
def test_all_matches_public_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported)
    assert all(getattr(module, n) is not None for n in exported)
    lazy = getattr(module, "_EXPORTS", None)
    if lazy is not None:
        assert set(lazy) == set(exported)
    else:
        public = {n for n, v in vars(module).items() if not n.startswith("_") and not getattr(v, "__file__", None)}
        assert public - {"annotations"} == set(exported)


def test_registering_the_agent_commands_imports_no_agent() -> None:
    code = (
        "import sys, argparse\n"
        "from agents.eval.cli import register\n"
        "register(argparse.ArgumentParser().add_subparsers())\n"
        "print(sorted(m for m in sys.modules if m.startswith('agents')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['agents', 'agents.eval', 'agents.eval.cli']"
