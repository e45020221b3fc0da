"""Sources from configuration: folders, index files, hub.yaml in the project and in AIFLOWS_HOME, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from aiflows import hub
from aiflows.hub import Hub, HubError, SourceSpec, TrustError, parse_source

from .conftest import FLOW_CODE, FlowRepos, flow_files, write_files


def test_folder_root_source_holds_owner_name_folders(tmp_path: Path, project: Path) -> None:
    root = tmp_path / "flows"
    write_files(root / "bob" / "echo", flow_files("bob/echo", "0.3.0"))
    (project / "hub.yaml").write_text(
        yaml.safe_dump({"sources": [{"name": "mine", "folder": "../flows"}], "trust": {"sources": ["mine"]}})
    )
    lock = Hub(project).pull(["bob/echo@>=0.3"])
    assert lock.flows["bob/echo"].kind == "folder" and lock.flows["bob/echo"].commit is None
    assert hub.load("bob/echo").run_sync({"text": "a"}) == {"text": "A"}


def test_index_source_with_folder_and_git_entries(flowrepos: FlowRepos, tmp_path: Path, project: Path) -> None:
    write_files(tmp_path / "idx" / "echo", flow_files("bob/echo", "1.0.0"))
    index = tmp_path / "idx" / "index.yaml"
    index.write_text(
        yaml.safe_dump(
            {
                "flows": {
                    "bob/echo": {"path": "echo", "version": "1.0.0", "description": "echo"},
                    "ada/fmt": {"git": f"file://{flowrepos.bare('ada/fmt')}"},
                }
            }
        )
    )
    lock = Hub(project, sources=[SourceSpec(index=str(index))]).pull(["bob/echo", "ada/fmt@<2"])
    assert lock.flows["ada/fmt"].version == "1.5.0" and lock.flows["ada/fmt"].kind == "git"
    assert lock.flows["bob/echo"].location == str((tmp_path / "idx" / "echo").resolve())


def test_home_config_is_read_after_the_project(flowrepos: FlowRepos, hub_home: Path, project: Path) -> None:
    hub_home.mkdir(parents=True, exist_ok=True)
    (hub_home / "hub.yaml").write_text(
        yaml.safe_dump(
            {"sources": [{"name": "team", "git": flowrepos.file_template()}], "trust": {"sources": ["team"]}}
        )
    )
    Hub(project).pull(["ada/fmt@1.0.0"])
    assert hub.load("ada/fmt").run_sync({"text": "q"}) == {"text": "Q"}


def test_trusting_a_source_label_that_is_not_where_the_flow_came_from_is_not_enough(
    flowrepos: FlowRepos, tmp_path: Path, project: Path
) -> None:
    (project / "hub.yaml").write_text(yaml.safe_dump({"sources": [{"name": "team", "git": flowrepos.file_template()}]}))
    Hub(project).pull(["ada/fmt"])
    cfg = {
        "sources": [{"name": "team", "git": str(tmp_path / "elsewhere/{owner}/{name}.git")}],
        "trust": {"sources": ["team"]},
    }
    (project / "hub.yaml").write_text(yaml.safe_dump(cfg))  # same label, now pointing somewhere else
    with pytest.raises(TrustError):
        hub.load("ada/fmt")


def test_bad_hub_yaml_names_the_file_and_key(project: Path) -> None:
    (project / "hub.yaml").write_text("sources:\n  - name: x\n    svn: http://example\n")
    with pytest.raises(HubError) as info:
        Hub(project)
    assert str(project / "hub.yaml") in str(info.value) and "key 'sources.0.svn': unknown key" in str(info.value)


def test_override_points_a_name_at_a_working_copy(flowrepos: FlowRepos, tmp_path: Path, project: Path) -> None:
    h = Hub(project, sources=[SourceSpec(git=flowrepos.file_template())])
    h.pull(["ada/fmt"])
    copy = write_files(tmp_path / "fmt-dev", flow_files("ada/fmt", "2.1.0-dev", code=FLOW_CODE.format(suffix="?")))
    h.override("ada/fmt", copy)
    assert yaml.safe_load((project / "hub.yaml").read_text())["overrides"] == {"ada/fmt": str(copy)}
    assert hub.load("ada/fmt").run_sync({"text": "w"}) == {"text": "W?"}  # working copy: no trust needed
    (copy / "flow.py").write_text(FLOW_CODE.format(suffix="#"))
    Hub(project).override("ada/fmt", None)
    with pytest.raises(TrustError):
        hub.load("ada/fmt")  # back to the locked, untrusted entry


def test_override_must_hold_the_named_flow(tmp_path: Path, project: Path) -> None:
    copy = write_files(tmp_path / "other", flow_files("bob/other", "1.0.0"))
    with pytest.raises(HubError, match="key 'name' is 'bob/other', expected 'ada/fmt'"):
        Hub(project).override("ada/fmt", copy)
    assert not (project / "hub.yaml").exists()


def test_override_in_project_config_is_relative_to_the_file(tmp_path: Path, project: Path) -> None:
    write_files(tmp_path / "dev", flow_files("bob/dev", "0.1.0"))
    (project / "hub.yaml").write_text("overrides:\n  bob/dev: ../dev\n")
    assert hub.load("bob/dev").run_sync({"text": "z"}) == {"text": "Z"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("git=https://example.org/{owner}/{name}.git", "git"),
        ("file:///srv/{owner}/{name}.git", "git"),
        ("hf://{owner}/{name}", "hf"),
        ("index=flows/index.yaml", "index"),
        ("flows/index.yaml", "index"),
        ("folder=/srv/flows", "folder"),
    ],
)
def test_parse_source(text: str, kind: str) -> None:
    assert parse_source(text).kind == kind


def test_load_finds_the_project_from_a_subfolder(
    tmp_path: Path, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(tmp_path / "dev", flow_files("bob/dev", "0.1.0"))
    (project / "hub.yaml").write_text("overrides:\n  bob/dev: ../dev\n")
    (project / "scripts" / "deep").mkdir(parents=True)
    monkeypatch.chdir(project / "scripts" / "deep")
    assert hub.load("bob/dev").run_sync({"text": "s"}) == {"text": "S"}
