"""`aiflows human` driven for real through a pseudo-terminal (pexpect), against runs of other processes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest
from conftest import HERE, cli

from aiflows import Runtime, SqliteStore
from aiflows.human import HumanDesk

pytestmark = pytest.mark.slow

pexpect = pytest.importorskip("pexpect")

TIMEOUT = 30


def start_run(env: dict[str, str], store: Path, target: str, data: dict, session: str) -> str:
    done = cli(env, "run", target, "--input", json.dumps(data), "--session", session, "--store", str(store))
    assert "suspended" in done.stderr, done.stderr
    return done.stderr.split()[1]  # "run ID started"


def at_a_terminal() -> None:
    """Ctrl-C as a person at a terminal has it: a suite started in the background (`cmd &` in a script)
    ignores SIGINT, its children inherit that, and Python then leaves Ctrl-C unhandled."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def terminal(env: dict[str, str], store: Path, *args: str) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "aiflows.cli", "human", "--store", str(store), *args],
        env=env,
        cwd=str(HERE),
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )
    return child


async def run_record(store: Path, run_id: str) -> tuple[object, list]:
    async with Runtime(store=SqliteStore(store)) as rt:
        record = await rt.get_run(run_id)
        return record, await HumanDesk(rt).store.for_run(run_id)


def test_plan_edit_approve_in_the_terminal(env: dict[str, str], store_path: Path) -> None:
    run_id = start_run(env, store_path, "human_sample_flows:app", {"problem": "add two numbers"}, "s1")
    child = terminal(env, store_path, "--session", "s1", "--once", "--name", "ada")
    child.expect("Write a plan for: add two numbers")
    child.expect("end with a line holding only")
    child.sendline("read a and b")
    child.sendline("  print their sum")
    child.sendline(".")
    child.expect("answered")
    child.expect(r"\[k\]eep the proposed value or \[e\]dit it\?")
    child.sendline("e")
    child.expect("Type the new value")
    child.sendline("a, b = map(int, input().split())")
    child.sendline("print(a + b)")
    child.sendeof()  # Ctrl-D ends a multi-line answer too
    child.expect("answered")
    child.expect(r"Approve\? \[y\]es / \[n\]o: ")
    child.sendline("maybe")
    child.expect("answer y or n")
    child.sendline("y")
    child.expect("Comment")
    child.sendline("ship it")
    child.expect(f"run {run_id} done")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    record, requests = asyncio.run(run_record(store_path, run_id))
    assert record.status == "done"
    assert record.output == {
        "plan": "read a and b\n  print their sum",
        "code": "a, b = map(int, input().split())\nprint(a + b)",
        "approved": True,
        "comment": "ship it",
    }
    assert [r.answered_by for r in requests] == ["ada", "ada", "ada"]


def test_edit_in_editor_and_keep(env: dict[str, str], store_path: Path) -> None:
    run_id = start_run(env, store_path, "human_sample_flows:app", {"problem": "sum"}, "s2")
    env = {**env, "EDITOR": "sed -i s/print/EDITED_print/"}  # a real program edits the file in place
    child = terminal(env, store_path, "--session", "s2", "--once")
    child.expect("Write a plan for: sum")
    child.sendline("just add")
    child.sendline(".")
    child.expect(r"\[e\]dit it\?")
    child.sendline("e")
    child.expect("answered")
    child.expect("Approve")
    child.sendline("n")
    child.expect("Comment")
    child.sendline("")
    child.expect(f"run {run_id} done")
    child.expect(pexpect.EOF)
    record, _ = asyncio.run(run_record(store_path, run_id))
    assert record.output["code"] == "# just add\nEDITED_print(sum(map(int, input().split())))\n"
    assert record.output["approved"] is False


def test_choice_is_asked_again_until_it_fits(env: dict[str, str], store_path: Path) -> None:
    run_id = start_run(env, store_path, "human_sample_flows:pick", {}, "s3")
    child = terminal(env, store_path, "--once")
    child.expect(r"c\+\+\s+Choose 1-2")
    child.sendline("rust")
    child.expect("'rust' is not one of the choices")
    child.sendline("2")
    child.expect(f"run {run_id} done")
    child.expect(pexpect.EOF)
    record, _ = asyncio.run(run_record(store_path, run_id))
    assert record.output["answer"] == "c++"


def test_someone_else_answered_first(env: dict[str, str], store_path: Path) -> None:
    start_run(env, store_path, "human_sample_flows:ask", {"question": "Which heap?"}, "s4")
    child = terminal(env, store_path, "--once", "--name", "ada")
    child.expect("Which heap\\?")
    child.expect("> ")

    async def answer_elsewhere() -> None:
        async with Runtime(store=SqliteStore(store_path)) as rt:
            desk = HumanDesk(rt)
            [waiting] = await desk.pending("s4")
            await desk.answer(waiting.id, "binary heap", by="bo")

    asyncio.run(answer_elsewhere())
    child.sendline("pairing heap")
    child.sendline(".")
    child.expect("AlreadyAnswered: request \\w+ was already answered by bo; this answer was not used")
    child.expect(pexpect.EOF)


def test_unknown_session_is_a_clear_error(env: dict[str, str], store_path: Path) -> None:
    start_run(env, store_path, "human_sample_flows:ask", {"question": "?"}, "real")
    done = cli(env, "human", "--store", str(store_path), "--session", "nope", "--once")
    assert done.returncode == 1
    assert "UnknownRequest: no session 'nope' is known here (sessions: real)" in done.stderr


def test_terminal_answers_a_run_served_by_a_worker_over_redis(env: dict[str, str], redis_url: str) -> None:
    import subprocess
    import time
    import uuid

    from aiflows.bus._redis_conn import RedisBusError
    from aiflows.bus.redis import RedisBus
    from aiflows.runtime.store.redis import RedisStore

    namespace = f"t{uuid.uuid4().hex[:10]}"
    where = ("--redis", redis_url, "--namespace", namespace)

    def runtime() -> Runtime:
        return Runtime(bus=RedisBus(redis_url, namespace=namespace), store=RedisStore(redis_url, namespace=namespace))

    async def send() -> str:
        async with runtime() as rt:
            deadline = time.monotonic() + 30
            while True:
                try:
                    return await rt.send("ask", {"question": "Which heap, worker?"}, session="r")
                except RedisBusError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.1)

    async def record(run_id: str) -> object:
        async with runtime() as rt:
            return await rt.get_run(run_id)

    worker = subprocess.Popen(
        [sys.executable, "-m", "aiflows.cli", "serve", "human_sample_flows:ask", *where],
        env=env,
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = asyncio.run(send())
        child = pexpect.spawn(
            sys.executable,
            ["-m", "aiflows.cli", "human", *where, "--name", "ada"],
            env=env,
            cwd=str(HERE),
            encoding="utf-8",
            timeout=TIMEOUT,
            dimensions=(50, 200),
            preexec_fn=at_a_terminal,
        )
        child.expect("Which heap, worker\\?")
        child.sendline("a binary heap")
        child.sendline(".")
        child.expect(f"run {run_id} done")  # resumed through the bus: the worker ran the rest
        child.expect("waiting for questions")
        child.sendintr()
        child.expect(pexpect.EOF)
        done = asyncio.run(record(run_id))
    finally:
        worker.terminate()
        worker.communicate(timeout=20)
    assert done.status == "done" and done.output["answer"] == "a binary heap" and done.output["answered_by"] == "ada"


def test_yaml_composition_with_questions(env: dict[str, str], store_path: Path) -> None:
    done = cli(
        env,
        "run",
        str(HERE / "plan_gate.yaml"),
        "--input",
        '{"problem": "p"}',
        "--session",
        "y",
        "--store",
        str(store_path),
    )
    assert "suspended" in done.stderr, done.stderr
    run_id = done.stderr.split()[1]
    child = terminal(env, store_path, "--once")
    child.expect("Plan for p\\?")
    child.sendline("divide and conquer")
    child.sendline(".")
    child.expect("Ship code for 'divide and conquer'\\?")
    child.expect("Approve\\?")
    child.sendline("y")
    child.expect("Comment")
    child.sendline("")
    child.expect(f"run {run_id} done")
    child.expect(pexpect.EOF)
    record, _ = asyncio.run(run_record(store_path, run_id))
    assert record.output["approved"] is True
