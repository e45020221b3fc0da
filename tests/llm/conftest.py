"""Fixtures for LLM flow tests: a loopback OpenAI-protocol server, a real redis-server, a tiny
transformers checkpoint built locally, and an environment that cannot reach a paid API."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aiflows.llm.testing import LoopbackLLMServer


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No model or key from the developer's shell, and every file under a fresh AIFLOWS_HOME."""
    for name in ("AIFLOWS_MODEL", "AIFLOWS_API_BASE", "AIFLOWS_OPENAI_API_KEYS", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIFLOWS_HOME", str(tmp_path / "aiflows_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def llm_server() -> Iterator[LoopbackLLMServer]:
    """An OpenAI-protocol server on 127.0.0.1; script it with `.script(...)` or `.responder`."""
    with LoopbackLLMServer() as server:
        yield server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port, without persistence."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def tiny_model_dir(make_tiny_qwen: Callable[..., Path]) -> Path:
    """A 2-layer Qwen2 (hidden 64, random weights, a 256-token window) and a BPE tokenizer trained here."""
    corpus = [
        "hello world",
        "the quick brown fox jumps over the lazy dog",
        "what is two plus two",
        "system user assistant",
    ]
    return make_tiny_qwen("tiny-qwen2", corpus, vocab_size=300, hidden=64, layers=2, max_positions=256, seed=0)


@pytest.fixture
def make_chat(llm_server: LoopbackLLMServer):
    """Build a ChatFlow that talks to the loopback server with test keys and fast retries."""
    import os

    from aiflows.llm import ChatFlow

    def make(name: str = "chat", *, keys: str = "sk-test-1", **config: object) -> ChatFlow:
        cfg = {
            "model": "openai/gpt-4o-mini",
            "api_base": llm_server.url,
            "api_key_env": ["TEST_LLM_KEYS"],
            "retry_base_s": 0.01,
            "retry_max_s": 0.05,
            **config,
        }
        return ChatFlow(name=name, config=cfg, env={**os.environ, "TEST_LLM_KEYS": keys})

    return make
