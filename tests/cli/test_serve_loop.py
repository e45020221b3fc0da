"""Workers run on uvloop when it is installed, and on asyncio's loop when asked to."""

from __future__ import annotations

import asyncio

import pytest

from aiflows.cli.serve import run_loop


async def loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_workers_use_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvloop", reason="uvloop comes with the redis extra on platforms that have it")
    monkeypatch.delenv("AIFLOWS_LOOP", raising=False)
    assert run_loop(loop_module()).startswith("uvloop")


def test_aiflows_loop_asyncio_keeps_the_standard_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIFLOWS_LOOP", "asyncio")
    assert run_loop(loop_module()).startswith("asyncio")
