"""examples/agent_kbqa.py and examples/agent_kbqa.yaml, run as a user would, against the loopback server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from scripted import responder

from agents.eval import load_task
from aiflows.llm.testing import LoopbackLLMServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def test_the_example_answers_a_kbqa_question(llm_server: LoopbackLLMServer) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    example = load_task("kbqa", split="train").examples[2]
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "agent_kbqa.py"), "--model", "openai/scripted"]
        + ["--api-base", llm_server.url, "--split", "train", "--question", "2", "--retriever", "bm25"],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "OPENAI_API_KEY": "sk-test"},
    )
    assert done.returncode == 0, done.stderr
    assert f"answer: {example.answer}  (reference {example.answer}: right)" in done.stdout
    assert "turn 1: retrieve" in done.stdout and "turn 2: calculator" in done.stdout


def test_the_example_yaml_under_aiflows_agent_eval(llm_server: LoopbackLLMServer, tmp_path: Path) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-test",
        "AIFLOWS_API_BASE": llm_server.url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "agent", "eval", "--task", "kbqa", "--split", "train"]
        + ["--agent", str(REPO / "examples" / "agent_kbqa.yaml"), "--model", "openai/scripted"]
        + ["--limit", "3", "--out", str(tmp_path / "o")]
        + ["--set", "subflows.retrieve.config.backend=bm25", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "kbqa: accuracy 100.0%" in done.stdout
    assert (tmp_path / "o" / "report.md").is_file()
