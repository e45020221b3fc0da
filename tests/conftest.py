"""Fixtures shared by every test folder.

`redis_url` starts a real, throwaway redis-server on a free loopback port for the test session.
Without redis-server the Redis tests skip, unless AIFLOWS_REQUIRE_REDIS=1 (as in CI), where
they fail: a missing server must never pass unnoticed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Protocol

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("AIFLOWS_SHARED_DATA", REPO.parent / "shared" / "data"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server process of the tests' own; can be stopped and started again on the same port and data."""

    def __init__(self, workdir: Path, *, appendonly: bool = True) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.appendonly = appendonly
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.workdir),
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "always",
        ]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


# Markers follow from the fixtures a test uses, so a new Redis or browser test is marked without
# anyone remembering to; `slow` and `chaos` are set by each file (`pytestmark`).
_MARKER_BY_FIXTURE = {"redis_server": "redis", "redis_url": "redis", "browser": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture in set(getattr(item, "fixturenames", ())) & _MARKER_BY_FIXTURE.keys():
            item.add_marker(_MARKER_BY_FIXTURE[fixture])


def _redis_required() -> bool:
    return os.environ.get("AIFLOWS_REQUIRE_REDIS") == "1"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        if _redis_required():
            pytest.fail("redis-server is not installed but AIFLOWS_REQUIRE_REDIS=1")
        pytest.skip("redis-server is not installed (set AIFLOWS_REQUIRE_REDIS=1 to make this a failure)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own AIFLOWS_HOME, so runs, caches and hub data never leak between tests."""
    home = tmp_path / "aiflows-home"
    monkeypatch.setenv("AIFLOWS_HOME", str(home))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    return home


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"the shared data folder {SHARED_DATA} is missing (set AIFLOWS_SHARED_DATA)")
    return SHARED_DATA


class TinyQwenBuilder(Protocol):
    def __call__(
        self, name: str, corpus: list[str], *, vocab_size: int, hidden: int, layers: int, max_positions: int, seed: int
    ) -> Path: ...


@pytest.fixture(scope="session")
def make_tiny_qwen(tmp_path_factory: pytest.TempPathFactory) -> TinyQwenBuilder:
    """Builds a Qwen2 checkpoint with random weights and a byte-level BPE tokenizer trained on
    `corpus` (aiflows.llm.tiny): a real model folder for the transformers paths, since nothing is downloaded."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from aiflows.llm.tiny import build_tiny_causal_lm

    def build(
        name: str, corpus: list[str], *, vocab_size: int, hidden: int, layers: int, max_positions: int, seed: int
    ) -> Path:
        return build_tiny_causal_lm(
            tmp_path_factory.mktemp(name),
            corpus,
            vocab_size=vocab_size,
            hidden=hidden,
            layers=layers,
            max_positions=max_positions,
            seed=seed,
        )

    return build


class ScriptRunner(Protocol):
    def __call__(
        self, script: Path, *args: str, timeout: float = 600, env: Mapping[str, str] | None = None
    ) -> dict[str, str]: ...


@pytest.fixture
def run_for_result() -> ScriptRunner:
    """Runs a benchmark or check script from the repository root, as a user would, and returns the fields
    of the `RESULT key=value ...` line it must end with, in the order printed (values as text).

    Fails the test with the end of stderr when the script exits non-zero or does not end with RESULT.
    """

    def run(script: Path, *args: str, timeout: float = 600, env: Mapping[str, str] | None = None) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, str(script), *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=None if env is None else dict(env),
        )
        assert done.returncode == 0, done.stderr[-3000:]
        lines = done.stdout.strip().splitlines()
        last = lines[-1] if lines else ""
        assert last.startswith("RESULT "), f"the last line is not a RESULT line: {last!r}"
        return dict(field.split("=", 1) for field in last.split()[1:])

    return run
