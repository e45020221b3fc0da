"""The hub flow's own tests (`aiflows hub check flows_hub/cc`), against an OpenAI-protocol server on loopback."""

from pathlib import Path

import pytest

from aiflows.hub import load_folder
from aiflows.llm.testing import LoopbackLLMServer
from aiflows.problems import load_samples

FOLDER = Path(__file__).resolve().parents[1]
RIGHT = "import sys\ndata = sys.stdin.read().split()\nprint(sum(int(x) for x in data[1:1 + int(data[0])]))\n"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AIFLOWS_OPENAI_API_KEYS", "test-key")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.delenv("AIFLOWS_MODEL", raising=False)
    with LoopbackLLMServer() as srv:
        yield srv


def test_code_debug_fixes_its_program_from_the_sample_results(server: LoopbackLLMServer, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("AIFLOWS_HOME", str(tmp_path))
    server.script("```python\nprint(0)\n```", f"Fixed.\n```python\n{RIGHT}```")
    problem = load_samples().by_id()["sum_list"]
    flow = load_folder(FOLDER, config={"model": "openai/test", "api_base": server.url, "chat": {"max_retries": 0}})
    try:
        out = flow.run_sync({"problem": problem.model_dump(mode="json")})
    finally:
        flow.close()
    assert out["code"] == RIGHT and out["sample_verdict"] == "AC" and out["rounds"] == 2
    feedback = server.requests[1].messages[-1]["content"]
    assert "Wrong answer (WA) on sample" in feedback and "Expected output:" in feedback


def test_every_variant_builds() -> None:
    from importlib import import_module

    flows = load_folder(FOLDER).__class__.__module__  # the folder's own package, as the hub imports it
    variants = import_module(flows).FLOWS
    assert len(variants) == 10
    for name in variants:
        assert load_folder(FOLDER, config={"flow": name}).variant == name
