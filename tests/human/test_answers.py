"""Answers that do not fit are refused with a message saying what was expected; nothing else changes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from human_sample_flows import ask, pick

from aiflows import Runtime, SqliteStore
from aiflows.human import (
    AlreadyAnswered,
    HumanDesk,
    HumanRequest,
    InvalidAnswer,
    UnknownRequest,
    normalize_answer,
)


def request(kind: str, **extra: Any) -> HumanRequest:
    return HumanRequest(
        id="r", run_id="x", path="", address="a", session="s", kind=kind, question="?", created_at=time.time(), **extra
    )


@pytest.mark.parametrize(
    ("kind", "extra", "value", "payload"),
    [
        ("text", {}, "hello", {"text": "hello"}),
        ("text", {}, {"text": "a\nb"}, {"text": "a\nb"}),
        ("choice", {"choices": ["x", "y"]}, "y", {"choice": "y"}),
        ("approve", {}, True, {"approved": True, "comment": ""}),
        ("approve", {}, "Reject", {"approved": False, "comment": ""}),
        ("approve", {}, {"approved": True, "comment": "ok"}, {"approved": True, "comment": "ok"}),
        ("edit", {"proposed": "a"}, "b", {"value": "b"}),
        ("edit", {"proposed": [1]}, "[1, 2]", {"value": [1, 2]}),
    ],
)
def test_answers_that_fit(kind: str, extra: dict, value: Any, payload: dict) -> None:
    assert normalize_answer(request(kind, **extra), value) == payload


@pytest.mark.parametrize(
    ("kind", "extra", "value", "problem"),
    [
        ("text", {}, {"approved": True}, "a 'text' question takes {text}, not approved"),
        ("text", {}, 42, "text: Input should be a valid string"),
        ("text", {}, "   ", "the answer is empty"),
        ("choice", {"choices": ["x", "y"]}, "z", "'z' is not one of the choices (x, y)"),
        ("approve", {}, "maybe", "approved: Input should be a valid boolean"),
        ("approve", {}, {"approved": True, "extra": 1}, "not extra"),
        ("edit", {"proposed": "code"}, 3, "the edited value must be text"),
        ("edit", {"proposed": {"a": 1}}, "{not json", "must be JSON like the proposed one"),
        ("edit", {"proposed": {"a": 1}}, "[1]", "must be a dict like the proposed one, not list"),
    ],
)
def test_answers_that_do_not_fit_say_why(kind: str, extra: dict, value: Any, problem: str) -> None:
    with pytest.raises(InvalidAnswer) as caught:
        normalize_answer(request(kind, **extra), value)
    assert problem in str(caught.value) and caught.value.request_id == "r"


async def suspended(rt: Runtime, flow: Any, data: dict, session: str = "s") -> HumanRequest:
    await rt.run(flow, data, session=session)
    return (await HumanDesk(rt).pending(session))[-1]


async def test_desk_refuses_bad_answers_and_keeps_the_request(tmp_path: Path) -> None:
    async with Runtime(store=SqliteStore(tmp_path / "runs.db")) as rt:
        desk = HumanDesk(rt)
        waiting = await suspended(rt, pick, {})
        with pytest.raises(InvalidAnswer, match="'rust' is not one of the choices"):
            await desk.answer(waiting.id, "rust")
        with pytest.raises(InvalidAnswer, match="takes {choice}, not text"):
            await desk.answer(waiting.id, {"text": "python"})
        with pytest.raises(UnknownRequest, match="no request 'nope'"):
            await desk.answer("nope", "python")
        assert [r.id for r in await desk.pending()] == [waiting.id]  # nothing was lost
        [result] = [await desk.answer_and_resume(waiting.id, "python", by="ada")]
    assert result.status == "done" and result.output["answer"] == "python"


async def test_second_answer_is_told_who_answered_first(tmp_path: Path) -> None:
    async with Runtime(store=SqliteStore(tmp_path / "runs.db")) as rt:
        desk = HumanDesk(rt)
        waiting = await suspended(rt, ask, {"question": "Plan?"})
        await desk.answer(waiting.id, "first", by="ada")
        with pytest.raises(AlreadyAnswered) as late:
            await desk.answer(waiting.id, "second", by="bo")
        stored = await desk.get(waiting.id)
    assert late.value.answered_by == "ada" and "already answered by ada" in str(late.value)
    assert stored.answer == {"text": "first"}


ANSWER_SCRIPT = """
import asyncio, sys
from aiflows import Runtime, SqliteStore
from aiflows.human import AlreadyAnswered, HumanDesk

async def main(path, request_id, name, go_at):
    async with Runtime(store=SqliteStore(path)) as rt:
        desk = HumanDesk(rt)
        await desk.pending()
        import time
        while time.time() < go_at:
            await asyncio.sleep(0.001)
        try:
            await desk.answer(request_id, "answer from " + name, by=name)
            print("WON", name)
        except AlreadyAnswered as exc:
            print("TOLD", name, exc.answered_by)

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
"""


def test_people_answering_at_once_from_separate_processes(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "runs.db"

    async def ask_it() -> HumanRequest:
        async with Runtime(store=SqliteStore(path)) as rt:
            return await suspended(rt, ask, {"question": "Plan?"})

    async def stored_answer(request_id: str) -> HumanRequest:
        async with Runtime(store=SqliteStore(path)) as rt:
            return await HumanDesk(rt).get(request_id)

    waiting = asyncio.run(ask_it())
    go_at = time.time() + 2.0
    people = ["ada", "bo", "cy", "di"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ANSWER_SCRIPT, str(path), waiting.id, name, str(go_at)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in people
    ]
    outputs = [p.communicate(timeout=60) for p in procs]
    lines = [out.strip() for out, _ in outputs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    winners = [line.split()[1] for line in lines if line.startswith("WON")]
    assert len(winners) == 1, lines
    told = [line.split() for line in lines if line.startswith("TOLD")]
    assert len(told) == 3 and all(words[2] == winners[0] for words in told)
    stored = asyncio.run(stored_answer(waiting.id))
    assert stored.answer == {"text": f"answer from {winners[0]}"} and stored.answered_by == winners[0]


async def test_unknown_session_is_named_with_the_known_ones(tmp_path: Path) -> None:
    async with Runtime(store=SqliteStore(tmp_path / "runs.db")) as rt:
        await suspended(rt, ask, {"question": "?"}, session="alpha")
        desk = HumanDesk(rt)
        await desk.check_session("alpha")
        with pytest.raises(UnknownRequest, match=r"no session 'beta' is known here \(sessions: alpha\)"):
            await desk.check_session("beta")
