"""Command execution through a lock or an index: `aiflows hub sync` / `pull` must never let git run a command.

Each test writes what an attacker would commit to a project (a `flows.lock` or an `index.yaml`)
around a real git repository, runs the real CLI in its own process, and checks for the marker file
the payload would create. Git itself runs these payloads when handed them (`--upload-pack=<cmd>`
as an option, `ext::<cmd>` as a transport once the user's config allows it), so only the hub's
checks stand in the way.
"""

# ruff: noqa: F811 - the hub fixtures are imported by name and then requested as arguments

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .hub_helpers import (  # noqa: F401 - fixtures are used by name
    FlowRepos,
    _flowrepos_template,
    cli_env,
    flowrepos,
    git,
    hub_home,
    project,
    run_cli,
    write_lock,
)

pytestmark = pytest.mark.slow


def _locked_fmt(flowrepos: FlowRepos, **changes: str) -> dict[str, object]:
    """A genuine lock entry for ada/fmt 1.0.0 (as `hub pull` writes it), with `changes` applied."""
    bare = flowrepos.bare("ada/fmt")
    entry: dict[str, object] = {
        "version": "1.0.0",
        "hash": "0" * 64,
        "kind": "git",
        "location": f"file://{bare}",
        "commit": git("rev-parse", "v1.0.0^{commit}", cwd=bare),
        "source": "team",
        "dependencies": {},
    }
    return {**entry, **changes}


def _ext_allowing_git_config(tmp_path: Path) -> dict[str, str]:
    """A user whose global git config enables the `ext::` transport (git's default is to refuse it)."""
    config = tmp_path / "gitconfig"
    config.write_text('[protocol "ext"]\n\tallow = always\n')
    return cli_env(GIT_CONFIG_GLOBAL=str(config))


def test_sync_refuses_a_commit_that_is_a_git_option(flowrepos: FlowRepos, project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned-commit"
    write_lock(project, {"ada/fmt": _locked_fmt(flowrepos, commit=f"--upload-pack=touch {marker}")})
    out = run_cli("sync", cwd=project)
    assert not marker.exists(), "the payload ran"
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith("HubError: ")
    assert str(project / "flows.lock") in out.stderr and "key 'flows.ada/fmt.commit'" in out.stderr
    assert "is not a full commit id (40 or 64 hex digits)" in out.stderr


def test_sync_refuses_a_location_that_is_a_git_option(flowrepos: FlowRepos, project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned-location"
    write_lock(project, {"ada/fmt": _locked_fmt(flowrepos, location=f"--upload-pack=touch {marker}")})
    out = run_cli("sync", cwd=project)
    assert not marker.exists(), "the payload ran"
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith("HubError: ") and "key 'flows.ada/fmt'" in out.stderr
    assert "starts with '-', which git would read as an option" in out.stderr


def test_sync_refuses_an_ext_transport_even_when_git_config_allows_it(
    flowrepos: FlowRepos, project: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned-ext"
    write_lock(project, {"ada/fmt": _locked_fmt(flowrepos, location=f"ext::sh -c touch% {marker}")})
    out = run_cli("sync", cwd=project, env=_ext_allowing_git_config(tmp_path))
    assert not marker.exists(), "the payload ran"
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith("HubError: ") and "key 'flows.ada/fmt'" in out.stderr
    assert "uses remote-helper syntax" in out.stderr


def test_pull_refuses_an_index_whose_git_url_is_a_command(flowrepos: FlowRepos, project: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned-index"
    index = tmp_path / "index.yaml"
    index.write_text(yaml.safe_dump({"flows": {"ada/fmt": {"git": f"ext::sh -c touch% {marker}"}}}))
    out = run_cli("pull", "ada/fmt", "--source", f"index={index}", cwd=project, env=_ext_allowing_git_config(tmp_path))
    assert not marker.exists(), "the payload ran"
    assert not (project / "flows.lock").exists()
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith("HubError: ") and str(index) in out.stderr
    assert "key 'flows.ada/fmt'" in out.stderr and "uses remote-helper syntax" in out.stderr


@pytest.mark.parametrize("url", ["ext::sh -c touch% {marker}", "--upload-pack=touch {marker}"], ids=["ext", "option"])
def test_pull_refuses_a_source_url_that_is_a_command(project: Path, tmp_path: Path, url: str) -> None:
    marker = tmp_path / "pwned-source"
    out = run_cli(
        "pull",
        "ada/fmt",
        "--source",
        "git=" + url.format(marker=marker),
        cwd=project,
        env=_ext_allowing_git_config(tmp_path),
    )
    assert not marker.exists(), "the payload ran"
    assert out.returncode == 1, out.stdout
    assert out.stderr.startswith("HubError: --source")


def test_git_runs_no_hooks_during_sync(flowrepos: FlowRepos, project: Path, tmp_path: Path) -> None:
    """A fetch runs the `reference-transaction` hook; the hub turns hooks off whatever the config says."""
    marker = tmp_path / "pwned-hook"
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    hook = hooks / "reference-transaction"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    config = tmp_path / "gitconfig-hooks"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    env = cli_env(GIT_CONFIG_GLOBAL=str(config))
    pulled = run_cli("pull", "ada/fmt@1.0.0", "--source", f"git={flowrepos.file_template()}", cwd=project, env=env)
    assert pulled.returncode == 0, pulled.stderr
    synced = run_cli("sync", cwd=project, env={**env, "AIFLOWS_HOME": str(tmp_path / "clean-home")})
    assert synced.returncode == 0, synced.stderr
    assert (tmp_path / "clean-home" / "hub" / "git").is_dir()  # it really fetched
    assert not marker.exists()


def test_git_protocol_needs_opting_in(project: Path, tmp_path: Path) -> None:
    """Unauthenticated git:// (and http://) are refused unless hub.yaml's `protocols:` lists them."""
    out = run_cli("pull", "ada/fmt", "--source", "git=git://127.0.0.1:9/{owner}/{name}.git", cwd=project)
    assert out.returncode == 1
    assert "uses protocol 'git', which is not allowed (allowed: https, ssh, file)" in out.stderr
