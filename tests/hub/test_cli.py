"""`aiflows hub ...` as a user runs it: a separate process, exit codes, `TypeName: message` errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FlowRepos, free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "hub", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_pull_list_show_search_sync(flowrepos: FlowRepos, project: Path, hub_home: Path) -> None:
    src = ["--source", f"git={flowrepos.file_template()}"]
    out = run_cli("pull", "ada/greeter@<1.1", *src, cwd=project)
    assert out.returncode == 0, out.stderr
    assert "ada/fmt 1.5.0" in out.stdout and "ada/greeter 1.0.0" in out.stdout
    listing = run_cli("list", cwd=project)
    assert listing.returncode == 0 and "ada/greeter" in listing.stdout and "lock" in listing.stdout
    assert "aiflows/chat" in listing.stdout  # the first-party catalogue is always a source
    shown = run_cli("show", "ada/fmt", *src, cwd=project)
    assert shown.returncode == 0, shown.stderr
    assert '"versions": [\n    "2.0.0",\n    "1.5.0",\n    "1.0.0"\n  ]' in shown.stdout
    assert '"trusted": false' in shown.stdout
    found = run_cli("search", "summar", cwd=project)
    assert found.returncode == 0 and "aiflows/summarize" in found.stdout
    assert run_cli("search", "no-such-thing", cwd=project).returncode == 1
    synced = run_cli("sync", cwd=project, env={"AIFLOWS_HOME": str(hub_home.parent / "fresh")})
    assert synced.returncode == 0 and "2 flows match" in synced.stdout


def test_errors_are_one_line_type_and_message(flowrepos: FlowRepos, project: Path) -> None:
    out = run_cli("pull", "ada/app", "--source", f"git={flowrepos.file_template()}", cwd=project)
    assert out.returncode == 1
    assert out.stderr.startswith("ResolutionError: cannot choose a version of ada/fmt")
    bad = run_cli("pull", "not-a-name", cwd=project)
    assert bad.returncode == 1 and bad.stderr.startswith("HubError: reference 'not-a-name'")


def test_hugging_face_source_offline_is_a_clear_error(project: Path) -> None:
    pytest.importorskip("huggingface_hub")
    closed = f"http://127.0.0.1:{free_port()}"
    for env in ({"HF_HUB_OFFLINE": "1"}, {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": closed}):
        out = run_cli("pull", "ada/fmt", "--source", "hf://{owner}/{name}", cwd=project, env=env)
        assert out.returncode == 1
        assert out.stderr.startswith("HubError: ada/fmt: not found in any source")
        assert "Hugging Face repository ada/fmt: cannot reach it" in out.stderr


def test_override_and_new_and_check(tmp_path: Path, project: Path) -> None:
    made = run_cli("new", "bob/hello", str(tmp_path / "hello"), cwd=project)
    assert made.returncode == 0, made.stderr
    checked = run_cli("check", str(tmp_path / "hello"), cwd=project)
    assert checked.returncode == 0, checked.stderr + checked.stdout
    assert "ok bob/hello 0.1.0" in checked.stdout and "2 passed" in checked.stdout
    assert run_cli("override", "bob/hello", str(tmp_path / "hello"), cwd=project).returncode == 0
    code = "from aiflows import hub; print(hub.load('bob/hello').run_sync({'text': 'x'}))"
    ran = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert ran.stdout.strip() == "{'text': '> x'}", ran.stderr
    assert run_cli("override", "bob/hello", cwd=project).returncode == 1  # neither PATH nor --remove
    assert run_cli("override", "bob/hello", "--remove", cwd=project).returncode == 0
