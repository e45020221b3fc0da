"""The first-party catalogue `flows_hub/`: its index, its flows, and the client reading it like any source."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from aiflows import hub
from aiflows.hub import Hub, HubError, build_index, check_flow, check_index, write_index

pytestmark = pytest.mark.slow

CATALOGUE = Path(__file__).resolve().parents[2] / "flows_hub"
FLOWS = sorted(p.parent for p in CATALOGUE.glob("*/flow.yaml"))


def test_index_matches_the_folders() -> None:
    index = check_index(CATALOGUE)
    assert {"aiflows/chat", "aiflows/summarize"} <= set(index.flows)
    assert index == build_index(CATALOGUE)


def test_a_stale_index_is_reported_entry_by_entry(tmp_path: Path) -> None:
    copy = tmp_path / "flows_hub"
    shutil.copytree(CATALOGUE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "chat" / "prompts" / "system.jinja").write_text("Be terse.\n")
    shutil.copytree(copy / "summarize", copy / "extra")
    text = (copy / "extra" / "flow.yaml").read_text().replace("aiflows/summarize", "aiflows/extra")
    (copy / "extra" / "flow.yaml").write_text(text)
    with pytest.raises(HubError) as info:
        check_index(copy)
    msg = str(info.value)
    assert "aiflows/chat: key 'hash'" in msg and "aiflows/extra: not listed" in msg
    write_index(copy)
    assert set(check_index(copy).flows) >= {"aiflows/chat", "aiflows/extra"}


def test_first_party_flows_are_pulled_and_trusted_without_configuration(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiflows.llm.testing import LoopbackLLMServer

    lock = Hub(project).pull(["aiflows/chat@>=0.1"])
    locked = lock.flows["aiflows/chat"]
    assert locked.source == "first-party" and locked.hash == build_index(CATALOGUE).flows["aiflows/chat"].hash
    assert "hub.yaml" not in {p.name for p in project.iterdir()}  # no trust entry was needed
    monkeypatch.setenv("AIFLOWS_OPENAI_API_KEYS", "k")
    monkeypatch.delenv("AIFLOWS_MODEL", raising=False)
    with LoopbackLLMServer() as server:
        server.script("Hello there.")
        chat = hub.load("aiflows/chat", config={"model": "openai/test", "api_base": server.url}, name="helper")
        assert chat.run_sync({"query": "hi"})["content"] == "Hello there."
        system = server.requests[-1].messages[0]
    assert system["role"] == "system" and "helpful, precise assistant" in system["content"]


def test_index_entries_resolve_to_the_catalogue_folders() -> None:
    raw = yaml.safe_load((CATALOGUE / "index.yaml").read_text())
    for name, entry in raw["flows"].items():
        assert (CATALOGUE / entry["path"] / "flow.yaml").is_file(), name


@pytest.mark.parametrize("folder", FLOWS, ids=[p.name for p in FLOWS])
def test_first_party_flow_passes_check(folder: Path) -> None:
    report = check_flow(folder)
    assert "passed" in report.tests and "failed" not in report.tests
