"""`hub new` makes a flow that `hub check` accepts; `hub check` says exactly what is wrong otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows.hub import HubError, check_flow, load_folder, load_manifest, new_flow


def test_new_flow_passes_check_and_runs(tmp_path: Path) -> None:
    folder = new_flow("bob/word-count", tmp_path / "wc", description="Counts words.")
    manifest = load_manifest(folder)
    assert manifest.name == "bob/word-count" and manifest.entrypoint == "flow:WordCount"
    assert manifest.requires_aiflows == ">=0.1,<0.2" and manifest.description == "Counts words."
    assert {p.name for p in folder.iterdir()} == {"flow.yaml", "flow.py", "README.md", "tests"}
    report = check_flow(folder)
    assert "2 passed" in report.tests
    assert load_folder(folder, name="wc").run_sync({"text": "a"}) == {"text": "> a"}


def test_new_refuses_a_non_empty_folder_and_a_bad_name(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    with pytest.raises(HubError, match="already exists and is not empty"):
        new_flow("bob/x", tmp_path / "taken")
    with pytest.raises(HubError, match="expected 'owner/name'"):
        new_flow("noslash", tmp_path / "y")


@pytest.fixture
def flow_dir(tmp_path: Path) -> Path:
    return new_flow("bob/hello", tmp_path / "hello")


def test_check_names_a_missing_entrypoint_module(flow_dir: Path) -> None:
    (flow_dir / "flow.py").rename(flow_dir / "other.py")
    with pytest.raises(HubError, match=r"flow.yaml: key 'entrypoint': no module flow.py"):
        check_flow(flow_dir, run_tests=False)


def test_check_wants_readme_and_tests(flow_dir: Path) -> None:
    (flow_dir / "README.md").unlink()
    with pytest.raises(HubError, match="no README.md"):
        check_flow(flow_dir, run_tests=False)
    (flow_dir / "README.md").write_text("# hello\n")
    (flow_dir / "tests" / "test_flow.py").unlink()
    with pytest.raises(HubError, match="no tests/test_"):
        check_flow(flow_dir, run_tests=False)


def test_check_reports_failing_tests_with_their_output(flow_dir: Path) -> None:
    (flow_dir / "tests" / "test_flow.py").write_text("def test_fails():\n    assert 'left' == 'right'\n")
    with pytest.raises(HubError) as info:
        check_flow(flow_dir)
    assert "tests failed" in str(info.value) and "test_fails" in str(info.value)


def test_check_refuses_a_flow_for_another_aiflows(flow_dir: Path) -> None:
    text = (flow_dir / "flow.yaml").read_text().replace('">=0.1,<0.2"', '">=2"')
    (flow_dir / "flow.yaml").write_text(text)
    with pytest.raises(HubError, match="'>=2' excludes this aiflows 0.1.0"):
        check_flow(flow_dir, run_tests=False)
    with pytest.raises(HubError, match="requires aiflows >=2, but this is aiflows 0.1.0"):
        load_folder(flow_dir)


def test_missing_python_requirements_are_named_not_installed(flow_dir: Path) -> None:
    wanted = 'requirements: ["no-such-package-xyz>=1", "pyyaml>=1"]'
    text = (flow_dir / "flow.yaml").read_text().replace("requirements: []", wanted)
    (flow_dir / "flow.yaml").write_text(text)
    with pytest.raises(HubError, match=r"missing: no-such-package-xyz>=1; install them with pip"):
        load_folder(flow_dir)
