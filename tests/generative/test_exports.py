"""The package's names resolve lazily, and importing it loads no torch."""

from __future__ import annotations

import subprocess
import sys

import aiflows.generative as gen


def test_every_exported_name_resolves_and_is_sorted():
    assert gen.__all__ == sorted(gen.__all__)
    for name in gen.__all__:
        assert getattr(gen, name) is not None


def test_importing_the_package_loads_no_torch():
    code = "import sys, aiflows, aiflows.generative; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
