"""`aiflows llm ask` as a real process against the loopback server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aiflows.llm.testing import LoopbackLLMServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def aiflows_llm(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "llm", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ask_streams_the_answer_and_reports_usage(llm_server: LoopbackLLMServer) -> None:
    llm_server.script("flows all the way down")
    done = aiflows_llm(
        "ask",
        "tell me",
        "--model",
        "openai/gpt-4o-mini",
        "--api-base",
        llm_server.url,
        "--system",
        "be brief",
        env={"OPENAI_API_KEY": "sk-cli"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "flows all the way down"
    assert "openai/gpt-4o-mini" in done.stderr and "completion tokens" in done.stderr
    request = llm_server.requests[0]
    assert request.stream and request.api_key == "sk-cli"
    assert [m["content"] for m in request.messages] == ["be brief", "tell me"]


def test_ask_with_a_bad_model_fails_with_a_typed_message() -> None:
    done = aiflows_llm("ask", "hi", "--model", "nosuchprovider/x", env={})
    assert done.returncode != 0
    assert "UnknownModelError" in done.stderr and "nosuchprovider/x" in done.stderr
    assert "Traceback" not in done.stderr
