"""Cached bytecode must not stand in for verified source.

The content hash covers `flow.py`, not `__pycache__/flow.cpython-XY.pyc`; Python's own loader runs
that `.pyc` instead of the source whenever its header records the source's mtime and size. Each
test plants such a file, compiled from code that writes a marker, and loads the flow in a fresh
interpreter.
"""

# ruff: noqa: F811 - the hub fixtures are imported by name and then requested as arguments

from __future__ import annotations

import importlib.util
import marshal
from importlib.util import MAGIC_NUMBER
from pathlib import Path

import yaml

from .hub_helpers import (  # noqa: F401 - fixtures are used by name
    FLOW_CODE,
    FlowRepos,
    _flowrepos_template,
    cli_env,
    flow_files,
    flowrepos,
    hub_home,
    project,
    run_python,
    write_files,
)

LOAD = "from aiflows import hub; print(hub.load('ada/fmt').run_sync({'text': 'a'}))"


def _plant_pyc(source: Path, marker: Path) -> Path:
    """Write the `.pyc` Python would pick for `source`, holding code that writes `marker` and then works."""
    evil = f"from pathlib import Path\nPath({str(marker)!r}).write_text('pwned')\n" + FLOW_CODE.format(suffix="")
    code = compile(evil, str(source), "exec")
    st = source.stat()
    header = (
        MAGIC_NUMBER
        + (0).to_bytes(4, "little")
        + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
        + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
    )
    pyc = Path(importlib.util.cache_from_source(str(source)))
    pyc.parent.mkdir(exist_ok=True)
    pyc.write_bytes(header + marshal.dumps(code))
    return pyc


def _pull_trusted_fmt(flowrepos: FlowRepos, project: Path) -> Path:
    """Pull ada/fmt 1.0.0 from a trusted source; return its cache entry."""
    from aiflows.hub import Hub

    (project / "hub.yaml").write_text(
        yaml.safe_dump(
            {"sources": [{"name": "team", "git": flowrepos.file_template()}], "trust": {"sources": ["team"]}}
        )
    )
    lock = Hub(project).pull(["ada/fmt@1.0.0"])
    return Hub(project).cache.path(lock.flows["ada/fmt"].hash)


def test_a_pyc_planted_in_the_cache_is_refused(flowrepos: FlowRepos, project: Path, tmp_path: Path) -> None:
    entry = _pull_trusted_fmt(flowrepos, project)
    marker = tmp_path / "pwned-pyc"
    pyc = _plant_pyc(entry / "flow.py", marker)
    out = run_python(LOAD, cwd=project)
    assert not marker.exists(), "the planted bytecode ran"
    assert out.returncode != 0
    assert "IntegrityError" in out.stderr and str(pyc) in out.stderr
    assert "its hash does not cover this file" in out.stderr


def test_loading_writes_no_bytecode_into_the_cache(flowrepos: FlowRepos, project: Path) -> None:
    entry = _pull_trusted_fmt(flowrepos, project)
    env = {k: v for k, v in cli_env().items() if k != "PYTHONDONTWRITEBYTECODE"}  # Python's default: write .pyc
    for _ in range(2):  # the second load must still verify: nothing was added by the first
        out = run_python(LOAD, cwd=project, env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "{'text': 'A'}"
    assert not (entry / "__pycache__").exists()


def test_a_working_copy_loads_its_source_not_a_planted_pyc(tmp_path: Path, project: Path) -> None:
    """An override is not hashed, but what runs is still the source the developer sees."""
    copy = write_files(tmp_path / "fmt-dev", flow_files("ada/fmt", "1.0.0"))
    (project / "hub.yaml").write_text(f"overrides:\n  ada/fmt: {copy}\n")
    marker = tmp_path / "pwned-override"
    _plant_pyc(copy / "flow.py", marker)
    out = run_python(LOAD, cwd=project)
    assert not marker.exists(), "the planted bytecode ran"
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "{'text': 'A'}"
