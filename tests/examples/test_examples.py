"""Every example in examples/ runs and gives the answer it promises."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(EXAMPLES))


def test_sequential():
    out = load("sequential").main("flows compose nicely")
    assert out["count"] == 3 and out["summary"] == "3 words, the longest is 'compose'"


def test_loop():
    out = load("loop").main(37)
    assert out["found"] is True and out["guess"] == 37


def test_branch():
    module = load("branch")
    assert module.main(7) == {"n": 49, "path": "square"}
    assert module.main(5000) == {"n": 2500, "path": "halve"}
    assert module.main(100) == {"n": 100, "path": "keep"}


def test_parallel():
    out = load("parallel").main()
    assert out["single"] == {"length": {"score": 13}, "vowels": {"score": 4}, "words": {"score": 2}}
    assert [r["words"]["score"] for r in out["many"]] == [3, 2, 1]


def test_custom_composite():
    out = load("custom_composite").main()
    assert out == {"draft": "durable flows: draft 3 (addresses: needs more detail)", "rounds": 3}


def test_examples_run_as_scripts():
    for name in ("sequential", "loop", "branch", "parallel", "custom_composite"):
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / f"{name}.py")], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, f"{name}: {result.stderr}"
        assert result.stdout.startswith("{")
