"""A tool flow from the hub: `aiflows hub pull` brings it (from a real git repository) and an agent's
YAML uses it like any tool, its metadata read from the pulled flow."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agents import AgentFlow
from agents.tools import metadata_of
from aiflows import load_flow

pytestmark = pytest.mark.slow

SUPPORT = Path(__file__).resolve().parent / "support"
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.org",
}

TOOL_CODE = '''
from pydantic import BaseModel, Field

from agents.tools import ToolFlow, ToolResult


class WordCount(ToolFlow):
    """Counts the words of a text."""

    class Input(BaseModel):
        query: str = Field(description="the text")

    description = "Counts the words of a text."
    output = "the number of words"
    limitations = "splits on white space only"

    def __init__(self, *, name: str = "wordcount", **kwargs):
        super().__init__(name=name, **kwargs)

    async def run_tool(self, ctx, data):
        return ToolResult(result=str(len(data.query.split())))
'''

AGENT_YAML = """
class: agents:AgentFlow
config: {max_steps: 3}
subflows:
  planner: {function: rule_modules:planner}
  executor: {function: rule_modules:executor}
  verifier: {function: rule_modules:verifier}
  generator: {function: rule_modules:generator}
  wordcount: {hub: team/wordcount}
  calculator: {class: agents.tools:CalculatorTool}
"""


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


def test_a_pulled_hub_tool_serves_an_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work, bare, project = tmp_path / "work", tmp_path / "repos" / "team" / "wordcount.git", tmp_path / "project"
    work.mkdir()
    project.mkdir()
    manifest = {
        "name": "team/wordcount",
        "version": "0.1.0",
        "description": "Counts words (an agent tool).",
        "entrypoint": "flow:WordCount",
        "requires-aiflows": ">=0.1,<0.2",
        "dependencies": {},
    }
    (work / "flow.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    (work / "flow.py").write_text(TOOL_CODE)
    (work / "README.md").write_text("# wordcount\n")
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "wordcount 0.1.0", cwd=work)
    git("tag", "v0.1.0", cwd=work)
    bare.parent.mkdir(parents=True)
    git("clone", "-q", "--bare", str(work), str(bare), cwd=tmp_path)
    source = {"name": "team", "git": f"file://{tmp_path}/repos/{{owner}}/{{name}}.git", "trusted": True}
    (project / "hub.yaml").write_text(yaml.safe_dump({"sources": [source]}))
    pulled = subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "hub", "pull", "team/wordcount"],
        cwd=project,
        env={**GIT_ENV, "AIFLOWS_HOME": str(tmp_path / "home")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pulled.returncode == 0, pulled.stderr
    monkeypatch.setenv("AIFLOWS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(SUPPORT))
    (project / "agent.yaml").write_text(AGENT_YAML)
    agent = load_flow(project / "agent.yaml")
    assert isinstance(agent, AgentFlow)
    meta = metadata_of(agent.tools["wordcount"], "wordcount")
    assert meta.description == "Counts the words of a text." and meta.limitations == "splits on white space only"
    out = agent.run_sync({"query": "count 3 words then add 4, use wordcount, calculator."})
    assert out["turns"][0]["result"] == "9"  # the pulled tool counted the query's words
    assert out["tool_calls"] == {"wordcount": 1, "calculator": 1} and out["answer"] == "7"
