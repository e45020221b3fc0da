"""Pulling from real git repositories (file:// and git daemon), locking, syncing and loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from aiflows import hub
from aiflows.hub import (
    Hub,
    HubError,
    IntegrityError,
    Lockfile,
    ResolutionError,
    SourceSpec,
    TrustError,
)

from .conftest import FlowRepos, flow_files, git

pytestmark = pytest.mark.slow


def _hub(repos: FlowRepos, **kwargs) -> Hub:
    return Hub(Path.cwd(), sources=[SourceSpec(git=repos.file_template())], **kwargs)


def _trust_all(project: Path, repos: FlowRepos) -> None:
    (project / "hub.yaml").write_text(
        yaml.safe_dump({"sources": [{"name": "team", "git": repos.file_template(), "trusted": True}]})
    )


def test_pull_resolves_newest_versions_transitively_and_locks_commits(flowrepos: FlowRepos, project: Path) -> None:
    lock = _hub(flowrepos).pull(["ada/greeter"])
    assert {n: f.version for n, f in lock.flows.items()} == {"ada/greeter": "1.1.0", "ada/fmt": "1.5.0"}
    on_disk = Lockfile.read(project / "flows.lock")
    assert on_disk == lock
    fmt = on_disk.flows["ada/fmt"]
    assert fmt.commit == git("rev-parse", "v1.5.0^{commit}", cwd=flowrepos.bare("ada/fmt"))
    assert fmt.kind == "git" and fmt.location == str(flowrepos.bare("ada/fmt")).join(["file://", ""])
    cached = Path(hub.Hub(project).cache.path(fmt.hash))
    assert (cached / "flow.yaml").is_file()
    assert on_disk.requested == ["ada/greeter"]


@pytest.mark.parametrize(
    ("rev", "version"),
    [("v1.0.0", "1.0.0"), ("1.0.0", "1.0.0"), ("<1.5", "1.0.0"), (">=1,<2", "1.5.0"), ("main", "2.0.0")],
)
def test_pull_by_tag_version_constraint_or_branch(flowrepos: FlowRepos, rev: str, version: str) -> None:
    lock = _hub(flowrepos).pull([f"ada/fmt@{rev}"])
    assert lock.flows["ada/fmt"].version == version


def test_pull_from_a_plain_path_template(flowrepos: FlowRepos, project: Path) -> None:
    lock = Hub(project, sources=[SourceSpec(git=f"{flowrepos.base}/{{owner}}/{{name}}.git")]).pull(["ada/fmt@<2"])
    assert lock.flows["ada/fmt"].location == str(flowrepos.bare("ada/fmt"))
    assert lock.flows["ada/fmt"].version == "1.5.0"


def test_pull_by_commit(flowrepos: FlowRepos) -> None:
    commit = git("rev-parse", "v1.0.0^{commit}", cwd=flowrepos.bare("ada/fmt"))
    lock = _hub(flowrepos).pull([f"ada/fmt@{commit[:10]}"])
    assert lock.flows["ada/fmt"].commit == commit and lock.flows["ada/fmt"].version == "1.0.0"


def test_conflict_is_explained_with_who_requires_what(flowrepos: FlowRepos, project: Path) -> None:
    with pytest.raises(ResolutionError) as info:
        _hub(flowrepos).pull(["ada/app"])
    msg = str(info.value)
    assert "cannot choose a version of ada/fmt" in msg
    assert "ada/app 1.0.0 requires ada/fmt>=2" in msg
    assert "ada/greeter 1.1.0 requires ada/fmt<2,>=1.5" in msg or "ada/greeter 1.1.0 requires ada/fmt>=1.5,<2" in msg
    assert "available: 2.0.0, 1.5.0, 1.0.0" in msg
    assert not (project / "flows.lock").exists()


def test_a_flow_for_another_aiflows_is_refused_naming_both_versions(flowrepos: FlowRepos) -> None:
    with pytest.raises(ResolutionError) as info:
        _hub(flowrepos).pull(["ada/future"])
    assert "requires aiflows >=9, this is aiflows 0.1.0" in str(info.value)


def test_pulling_runs_no_code_and_importing_needs_trust(
    flowrepos: FlowRepos, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "marker"
    monkeypatch.setenv("HUB_MARKER", str(marker))
    lock = _hub(flowrepos).pull(["ada/marker"])
    assert not marker.exists()
    with pytest.raises(TrustError) as info:
        hub.load("ada/marker")
    assert lock.flows["ada/marker"].hash in str(info.value) and "aiflows hub trust ada/marker" in str(info.value)
    assert not marker.exists()
    _hub(flowrepos).pull(["ada/marker"], trust=True)
    assert hub.load("ada/marker").run_sync({"text": "x"}) == {"text": "x"}
    assert marker.read_text() == "imported"


def test_load_and_run_a_pulled_flow_with_its_dependency(flowrepos: FlowRepos, project: Path) -> None:
    _trust_all(project, flowrepos)
    Hub(project).pull(["ada/greeter@>=1,<1.1"])
    greeter = hub.load("ada/greeter", name="greet")
    assert greeter.name == "greet"
    assert greeter.run_sync({"name": "ada"}) == {"text": "HI ADA"}  # manifest default config
    custom = hub.load("ada/greeter@>=1.0", config={"greeting": "bonjour"})
    assert custom.run_sync({"name": "ada"}) == {"text": "BONJOUR ADA"}


def test_trusting_a_pull_trusts_exactly_its_dependency_closure(flowrepos: FlowRepos, project: Path) -> None:
    h = _hub(flowrepos)
    h.pull(["ada/marker"])
    lock = _hub(flowrepos).pull(["ada/greeter"], trust=True)
    trusted = yaml.safe_load((project / "hub.yaml").read_text())["trust"]["hashes"]
    assert sorted(trusted) == sorted([lock.flows["ada/greeter"].hash, lock.flows["ada/fmt"].hash])
    assert hub.load("ada/greeter").run_sync({"name": "b"}) == {"text": "HELLO B"}
    with pytest.raises(TrustError):
        hub.load("ada/marker")


def test_load_refuses_a_reference_the_lock_does_not_satisfy(flowrepos: FlowRepos, project: Path) -> None:
    _trust_all(project, flowrepos)
    Hub(project).pull(["ada/fmt@1.0.0"])
    with pytest.raises(HubError, match=r"locked at 1\.0\.0 \(\w+\), which is not ada/fmt@>=2"):
        hub.load("ada/fmt@>=2")
    with pytest.raises(HubError, match="not in .*flows.lock; run `aiflows hub pull ada/greeter`"):
        hub.load("ada/greeter")


def test_sync_reproduces_the_lock_on_a_clean_cache(
    flowrepos: FlowRepos, project: Path, hub_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _trust_all(project, flowrepos)
    lock = Hub(project).pull(["ada/greeter@<1.1"])
    flowrepos.add_version("ada/fmt", "1.9.0", flow_files("ada/fmt", "1.9.0"))  # newer versions must not leak in
    other_home = tmp_path / "other-machine"
    monkeypatch.setenv("AIFLOWS_HOME", str(other_home))
    synced = Hub(project).sync()
    assert synced == lock
    for f in lock.flows.values():
        assert (other_home / "hub" / "cache" / f.hash / "flow.yaml").is_file()
    assert hub.load("ada/greeter").run_sync({"name": "x"}) == {"text": "HI X"}


def test_sync_refuses_content_that_differs_from_the_lock(
    flowrepos: FlowRepos, project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    Hub(project, sources=[SourceSpec(git=flowrepos.file_template())]).pull(["ada/fmt@1.0.0"])
    text = (project / "flows.lock").read_text()
    lock = Lockfile.read(project / "flows.lock")
    forged = text.replace(lock.flows["ada/fmt"].hash, "f" * 64)
    (project / "flows.lock").write_text(forged)
    monkeypatch.setenv("AIFLOWS_HOME", str(tmp_path / "clean"))
    with pytest.raises(IntegrityError) as info:
        Hub(project).sync()
    assert str(project / "flows.lock") in str(info.value) and "ada/fmt" in str(info.value)
    assert not (tmp_path / "clean" / "hub" / "cache" / ("f" * 64)).exists()


def test_a_modified_cache_entry_is_refused_naming_the_file(flowrepos: FlowRepos, project: Path) -> None:
    _trust_all(project, flowrepos)
    lock = Hub(project).pull(["ada/fmt"])
    entry = Hub(project).cache.path(lock.flows["ada/fmt"].hash)
    (entry / "flow.py").write_text((entry / "flow.py").read_text() + "\nimport os  # injected\n")
    with pytest.raises(IntegrityError) as info:
        hub.load("ada/fmt")
    assert str(entry / "flow.py") in str(info.value)
    (entry / "extra.py").write_text("x = 1\n")
    with pytest.raises(IntegrityError):
        Hub(project).sync()


def test_pulling_again_keeps_locked_versions_and_adds_new_roots(flowrepos: FlowRepos, project: Path) -> None:
    h = _hub(flowrepos)
    h.pull(["ada/fmt@<2"])
    lock = _hub(flowrepos).pull(["ada/greeter@1.0.0"])
    assert lock.requested == ["ada/fmt@<2", "ada/greeter@==1.0.0"]
    assert lock.flows["ada/fmt"].version == "1.5.0"


def test_pulling_a_bare_name_again_keeps_its_locked_range(flowrepos: FlowRepos, project: Path) -> None:
    _hub(flowrepos).pull(["ada/fmt@<2"])
    lock = _hub(flowrepos).pull(["ada/fmt"])  # 2.0.0 exists, but the lock asks for <2
    assert lock.requested == ["ada/fmt@<2"] and lock.flows["ada/fmt"].version == "1.5.0"
    lock = _hub(flowrepos).pull(["ada/fmt@>=2"])  # a new range is asked for by name
    assert lock.requested == ["ada/fmt@>=2"] and lock.flows["ada/fmt"].version == "2.0.0"


def test_pull_over_git_daemon(flowrepos: FlowRepos, git_daemon: str, project: Path) -> None:
    (project / "hub.yaml").write_text("protocols: [git]\n")  # git:// is unauthenticated: opt-in
    lock = Hub(project, sources=[SourceSpec(git=f"{git_daemon}/{{owner}}/{{name}}.git")]).pull(["ada/greeter"])
    assert lock.flows["ada/fmt"].location == f"{git_daemon}/ada/fmt.git"
    shutil.rmtree(Path.cwd().parent / "home")
    assert Hub(project).sync() == lock


def test_unknown_flow_names_every_source_tried(flowrepos: FlowRepos, git_daemon: str) -> None:
    (Path.cwd() / "hub.yaml").write_text("protocols: [git, file]\n")
    h = Hub(
        Path.cwd(),
        sources=[
            SourceSpec(name="daemon", git=f"{git_daemon}/{{owner}}/{{name}}.git"),
            SourceSpec(name="files", git=flowrepos.file_template()),
        ],
    )
    with pytest.raises(HubError) as info:
        h.pull(["ada/nothing"])
    assert "ada/nothing: not found in any source" in str(info.value)
    assert "daemon:" in str(info.value) and "files:" in str(info.value)


def test_tag_whose_manifest_disagrees_is_refused(flowrepos: FlowRepos) -> None:
    flowrepos.add_version("ada/fmt", "3.0.0", flow_files("ada/fmt", "2.5.0"))
    with pytest.raises(ResolutionError, match="tag v3.0.0 holds flow.yaml version 2.5.0"):
        _hub(flowrepos).pull(["ada/fmt"])


def test_yaml_composition_uses_a_pulled_flow_by_reference(flowrepos: FlowRepos, project: Path) -> None:
    from aiflows import load_flow

    _trust_all(project, flowrepos)
    Hub(project).pull(["ada/greeter@<1.1"])
    (project / "pipeline.yaml").write_text(
        "name: pipeline\ntype: sequential\nsteps:\n"
        "  - hub: ada/greeter@>=1.0,<1.1\n    name: greet\n    config: {greeting: hey}\n"
    )
    assert load_flow(project / "pipeline.yaml").run_sync({"name": "yu"})["text"] == "HEY YU"
