"""Durable runs: a killed or failed run resumes from its journal without repeating finished calls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aiflows import CompositeFlow, FlowError, MemoryStore, RunNotFound, Runtime, SqliteStore, flow

FLOWS = """
import os, signal, time
from pathlib import Path
from aiflows import CompositeFlow

def step(n: int, log: str) -> dict:
    with open(log, "a") as f:
        f.write(f"step{n}\\n")
    return {f"s{n}": n}

def step1(log: str) -> dict: return step(1, log)
def step2(log: str) -> dict: return step(2, log)
def step3(log: str) -> dict: return step(3, log)

def bomb(log: str) -> dict:
    with open(log, "a") as f:
        f.write("bomb\\n")
    if os.environ.get("KILL_ME") == "1":
        time.sleep(0.5)  # longer than the store's flush interval: the journal so far is on disk
        os.kill(os.getpid(), signal.SIGKILL)
    return {"survived": True}

class Drawer(CompositeFlow):
    async def handle(self, ctx, data):
        pick = ctx.random.randint(0, 10**9)
        stamp = ctx.now()
        with open(data.log, "a") as f:
            f.write(f"draw {pick} {stamp}\\n")
        await self.call("bomb", {"log": data.log})
        return {"pick": pick, "stamp": stamp}
"""

YAML = """
name: durable
type: sequential
steps:
  - function: killflows:step1
  - function: killflows:step2
  - class: killflows:Drawer
    subflows:
      bomb: {function: killflows:bomb}
  - function: killflows:step3
"""


def aiflows(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.mark.chaos
def test_a_killed_run_resumes_from_the_cli_without_repeating_finished_calls(tmp_path: Path):
    (tmp_path / "killflows.py").write_text(FLOWS)
    (tmp_path / "durable.yaml").write_text(YAML)
    log = tmp_path / "log.txt"
    env = {**os.environ, "KILL_ME": "1"}
    data = f'{{"log": "{log}"}}'

    killed = aiflows("run", "durable.yaml", "--input", data, "--run-id", "run-1", env=env, cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    first = log.read_text().splitlines()
    assert first[:2] == ["step1", "step2"] and first[2].startswith("draw ") and first[3] == "bomb"

    env["KILL_ME"] = "0"
    resumed = aiflows("resume", "run-1", env=env, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    lines = log.read_text().splitlines()
    # step1 and step2 were journaled: not run again. The composite replays: same random draw and clock.
    assert lines[4:] == [first[2], "bomb", "step3"]
    _, pick, stamp = first[2].split()
    assert f'"pick": {pick}' in resumed.stdout and stamp in resumed.stdout

    again = aiflows("resume", "run-1", env=env, cwd=tmp_path)  # a finished run answers from its record
    assert again.returncode == 0 and log.read_text().splitlines() == lines

    trace = aiflows("trace", "run-1", env=env, cwd=tmp_path)
    assert trace.returncode == 0
    for name in ("durable/step1", "durable/Drawer/bomb", "durable/step3"):
        assert name in trace.stdout


async def test_a_failed_run_resumes_through_the_api_and_retries_only_what_failed(tmp_path: Path):
    calls = {"prepare": 0, "flaky": 0}
    broken = {"yes": True}

    @flow
    def prepare() -> dict:
        calls["prepare"] += 1
        return {"ready": True}

    @flow
    def flaky(ready: bool) -> dict:
        calls["flaky"] += 1
        if broken["yes"]:
            raise ConnectionError("service down")
        return {"ok": ready}

    class Job(CompositeFlow):
        async def handle(self, ctx, data):
            first = await self.call("prepare", {})
            return await self.call("flaky", first)

    job = Job(subflows={"prepare": prepare, "flaky": flaky})
    store = SqliteStore(tmp_path / "runs.db")
    async with Runtime(store=store) as rt:
        result = await rt.run(job, {})
        assert result.status == "failed" and result.error.type == "ConnectionError"
        broken["yes"] = False
        resumed = await rt.resume(result.run_id)
    assert resumed.status == "done" and resumed.output == {"ok": True}
    assert calls == {"prepare": 1, "flaky": 2}


async def test_a_handler_that_changes_its_calls_on_resume_is_told_it_is_not_deterministic():
    order = {"first": "a"}

    @flow
    def a() -> dict:
        return {"v": "a"}

    @flow
    def b() -> dict:
        raise RuntimeError("b fails the first time")

    class Fickle(CompositeFlow):
        async def handle(self, ctx, data):
            await self.call(order["first"], {})
            return await self.call("b", {})

    async with Runtime(store=MemoryStore()) as rt:
        result = await rt.run(Fickle(subflows={"a": a, "b": b}), {})
        assert result.status == "failed"
        order["first"] = "b"
        resumed = await rt.resume(result.run_id)
    assert resumed.error.type == "NondeterminismError"
    assert "journal recorded a call to 'Fickle/a'" in resumed.error.message


async def test_resuming_an_unknown_run_is_a_clear_error():
    async with Runtime(store=MemoryStore()) as rt:
        with pytest.raises(RunNotFound, match="no run 'nope'"):
            await rt.resume("nope")


async def test_journal_off_still_runs_and_nothing_is_replayed():
    count = {"n": 0}

    @flow
    def tick() -> dict:
        count["n"] += 1
        return {"n": count["n"]}

    class Twice(CompositeFlow):
        async def handle(self, ctx, data):
            await self.call("tick", {})
            raise FlowError("stop", address="Twice")

    async with Runtime(store=MemoryStore(), journal=False) as rt:
        result = await rt.run(Twice(subflows={"tick": tick}), {})
        await rt.resume(result.run_id)
    assert count["n"] == 2
