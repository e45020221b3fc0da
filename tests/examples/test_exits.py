"""Every example ends an ordinary event with one line and no traceback: a missing key, Ctrl-C
(once, or again while it unwinds). The model is an OpenAI-protocol server on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aiflows.llm.testing import LoopbackLLMServer, Reply
from aiflows.problems import SAMPLES_DIR

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.endswith("_API_KEYS")}
    env.pop("AIFLOWS_MODEL", None)
    env.pop("AIFLOWS_API_BASE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["AIFLOWS_HOME"] = str(tmp_path / "home")
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    return {**env, **extra}


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip() and "LiteLLM" not in line]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_chat_tool_loop_without_a_key_says_so_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "chat_tool_loop.py"), "What is 2 + 2?", "--model", "openai/gpt-4o-mini"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    line = _one_line(done.stderr)
    assert line.startswith("MissingKeyError:") and "OPENAI_API_KEY" in line


@pytest.mark.parametrize("presses", [1, 2])
def test_chat_tool_loop_interrupted_while_the_model_thinks(tmp_path: Path, presses: int) -> None:
    with LoopbackLLMServer(models=["slow"]) as server:
        server.responder = lambda request: Reply(content="ANSWER: 4", delay_s=30)
        proc = subprocess.Popen(
            [sys.executable, str(EXAMPLES / "chat_tool_loop.py"), "What is 2 + 2?", "--model", "openai/slow"]
            + ["--api-base", server.url],
            env=_env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal (see below)
        )
        deadline = time.monotonic() + 60
        while not server.requests and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert server.requests, "the example never asked the model"
        for _ in range(presses):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.2)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert _one_line(err) == "interrupted"


@pytest.mark.parametrize("presses", [1, 2])
def test_human_plan_code_interrupted_at_the_plan_prompt(tmp_path: Path, presses: int) -> None:
    pexpect = pytest.importorskip("pexpect")
    with LoopbackLLMServer(models=["coder"]) as server:
        child = pexpect.spawn(
            sys.executable,
            [str(EXAMPLES / "human_plan_code.py"), str(SAMPLES_DIR / "sum_list"), "--session", "ctrl-c"],
            env=_env(tmp_path, AIFLOWS_MODEL="openai/coder", AIFLOWS_API_BASE=server.url),
            cwd=str(REPO),
            encoding="utf-8",
            timeout=90,
            dimensions=(60, 200),
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as at a terminal, even when the
        )  # suite runs in the background (`cmd &` in a script), where SIGINT starts out ignored
        child.expect("Write a plan for this problem")
        child.expect("> ")
        for _ in range(presses):
            child.sendintr()
            time.sleep(0.2)
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 130, child.before
    assert "interrupted: the run is kept" in child.before and "Traceback" not in child.before
