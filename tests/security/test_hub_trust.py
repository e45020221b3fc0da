"""Trust belongs to content, not to what a lock file says; the trust error's advice works as printed."""

# ruff: noqa: F811 - the hub fixtures are imported by name and then requested as arguments

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from aiflows.hub import Hub, SourceSpec
from aiflows.hub._sources import first_party_index

from .hub_helpers import (  # noqa: F401 - fixtures are used by name
    MARKER_CODE,
    FlowRepos,
    _flowrepos_template,
    cli_env,
    flow_files,
    flowrepos,
    hub_home,
    project,
    run_cli,
    run_python,
    write_files,
    write_lock,
)

pytestmark = pytest.mark.slow


def test_a_lock_that_calls_other_content_first_party_is_not_trusted(tmp_path: Path, project: Path) -> None:
    """The attacker's copy of aiflows/chat reached the shared cache through an untrusted pull (which runs
    nothing); their lock then claims that content is the first-party flow, from the first-party folder."""
    chat = first_party_index().parent / "chat"
    version = Hub(project).find("aiflows/chat")[0].version
    evil = write_files(tmp_path / "evil-chat", flow_files("aiflows/chat", str(version), code=MARKER_CODE))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pulled = Hub(elsewhere, sources=[SourceSpec(folder=str(evil))]).pull(["aiflows/chat"])
    evil_hash = pulled.flows["aiflows/chat"].hash
    write_lock(
        project,
        {
            "aiflows/chat": {
                "version": str(version),
                "hash": evil_hash,
                "kind": "folder",
                "location": str(chat.resolve()),
                "source": "first-party",
            }
        },
    )
    marker = tmp_path / "pwned-first-party"
    out = run_python(
        "from aiflows import hub; hub.load('aiflows/chat')", cwd=project, env=cli_env(HUB_MARKER=str(marker))
    )
    assert not marker.exists(), "the forged first-party flow was imported"
    assert "TrustError: aiflows/chat" in out.stderr and evil_hash in out.stderr


def test_the_real_first_party_flow_is_still_trusted_without_configuration(project: Path) -> None:
    lock = Hub(project).pull(["aiflows/chat"])
    assert Hub(project).is_trusted("aiflows/chat", lock.flows["aiflows/chat"])


@pytest.mark.parametrize(
    ("key", "version"), [("ada/greeter", "1.0.0"), ("ada/fmt", "1.5.0")], ids=["other-name", "other-version"]
)
def test_sync_refuses_a_lock_whose_key_is_not_the_flow_it_pins(
    flowrepos: FlowRepos, project: Path, tmp_path: Path, key: str, version: str
) -> None:
    Hub(project, sources=[SourceSpec(git=flowrepos.file_template())]).pull(["ada/fmt@1.0.0"])
    lock = json.loads((project / "flows.lock").read_text())
    entry = {**lock["flows"]["ada/fmt"], "version": version}
    write_lock(project, {key: entry})
    clean = tmp_path / "clean-home"
    out = run_cli("sync", cwd=project, env=cli_env(AIFLOWS_HOME=str(clean)))
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith("IntegrityError: ") and str(project / "flows.lock") in out.stderr
    assert f"key 'flows.{key}' pins {key} {version}" in out.stderr and "is ada/fmt 1.0.0 by its flow.yaml" in out.stderr
    assert not (clean / "hub" / "cache" / entry["hash"]).exists()


def test_the_trust_error_suggests_a_command_that_works_as_printed(
    flowrepos: FlowRepos, project: Path, tmp_path: Path
) -> None:
    """The flow was pulled with a one-off `--source`, which no config remembers."""
    pulled = run_cli("pull", "ada/marker", "--source", f"git={flowrepos.file_template()}", cwd=project)
    assert pulled.returncode == 0, pulled.stderr
    marker = tmp_path / "imported"
    env = cli_env(HUB_MARKER=str(marker))
    load = "from aiflows import hub; print(hub.load('ada/marker').run_sync({'text': 'x'}))"
    refused = run_python(load, cwd=project, env=env)
    assert "TrustError: ada/marker" in refused.stderr and not marker.exists()
    suggested = re.findall(r"`(aiflows hub [^`]+)`", refused.stderr)
    assert suggested, refused.stderr
    elsewhere = tmp_path / "some-other-folder"
    elsewhere.mkdir()
    ran = subprocess.run(
        shlex.split(suggested[0]), cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, f"`{suggested[0]}` failed: {ran.stderr}"
    loaded = run_python(load, cwd=project, env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "{'text': 'x'}" and marker.read_text() == "imported"
