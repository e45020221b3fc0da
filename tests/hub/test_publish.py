"""Publishing to real git remotes: over `git daemon` (receive-pack) and to a bare repository path."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows import hub
from aiflows.hub import Hub, HubError, SourceSpec, new_flow, publish_flow

from .conftest import FlowRepos, git


def test_publish_over_git_daemon_then_pull_and_run(
    flowrepos: FlowRepos, git_daemon: str, tmp_path: Path, project: Path
) -> None:
    folder = new_flow("bob/hello", tmp_path / "hello")
    git("init", "-q", "--bare", "-b", "main", str(flowrepos.bare("bob/hello")))
    (project / "hub.yaml").write_text("protocols: [git]\n")  # git:// is unauthenticated: opt-in
    result = publish_flow(folder, f"{git_daemon}/bob/hello.git", protocols=["git"])
    assert result.pushed and result.tag == "v0.1.0"
    assert git("rev-parse", "v0.1.0^{commit}", cwd=flowrepos.bare("bob/hello")) == result.commit
    lock = Hub(project, sources=[SourceSpec(git=f"{git_daemon}/{{owner}}/{{name}}.git")]).pull(
        ["bob/hello"], trust=True
    )
    assert lock.flows["bob/hello"].hash == result.hash  # what was published is what is pulled
    assert hub.load("bob/hello").run_sync({"text": "hey"}) == {"text": "> hey"}


def test_republishing_is_idempotent_but_a_version_is_never_retagged(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote))
    folder = new_flow("bob/hello", tmp_path / "hello")
    first = publish_flow(folder, str(remote), run_tests=False)
    again = publish_flow(folder, str(remote), run_tests=False)
    assert not again.pushed and again.commit == first.commit
    (folder / "flow.py").write_text((folder / "flow.py").read_text() + "\n# changed\n")
    with pytest.raises(HubError, match="tag v0.1.0 already holds bob/hello with different content"):
        publish_flow(folder, str(remote), run_tests=False)
    assert git("rev-parse", "v0.1.0^{commit}", cwd=remote) == first.commit
    (folder / "flow.yaml").write_text((folder / "flow.yaml").read_text().replace("0.1.0", "0.1.1", 1))
    second = publish_flow(folder, str(remote), run_tests=False)
    assert second.pushed and git("rev-parse", "main", cwd=remote) == second.commit
    assert git("rev-parse", "main^", cwd=remote) == first.commit  # history grows on main


def test_failing_tests_stop_a_publish(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(remote))
    folder = new_flow("bob/hello", tmp_path / "hello")
    (folder / "tests" / "test_flow.py").write_text("def test_fails():\n    assert 1 == 2\n")
    with pytest.raises(HubError, match="tests failed"):
        publish_flow(folder, str(remote))
    assert git("tag", "--list", cwd=remote) == ""
