"""HumanFlow in one process: every kind of answer, suspension and resume, timeouts, short waits."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import BaseModel

from aiflows import (
    CompositeFlow,
    ConfigError,
    MemoryStore,
    Runtime,
    SqliteStore,
)
from aiflows.human import HumanDesk, HumanFlow, human_store_for


class Ask(CompositeFlow):
    """Asks its one subflow `human` and returns its output, plus a later call to show replay."""

    async def handle(self, ctx: Any, data: Any) -> dict:
        answer = await self.call("human", dict(data.model_extra or {}))
        return {"human": answer}


def asking(**config: Any) -> Ask:
    return Ask(subflows={"human": HumanFlow(config=config)}, name="ask")


async def ask_and_answer(flow: Any, data: dict, value: Any, *, store: Any = None) -> tuple[Any, Any]:
    async with Runtime(store=store or MemoryStore()) as rt:
        first = await rt.run(flow, data, session="s")
        desk = HumanDesk(rt)
        [request] = await desk.pending("s")
        result = await desk.answer_and_resume(request.id, value, by="ada")
        return first, result


async def test_text_question_suspends_then_resumes_with_the_answer() -> None:
    flow = asking(question="Plan for {{ problem }}?")
    first, result = await ask_and_answer(flow, {"problem": "two-sum"}, "use a hash map\nthen scan once")
    assert first.status == "suspended"
    assert first.error.type == "Suspended" and first.error.details["kind"] == "text"
    assert result.status == "done"
    human = result.output["human"]
    assert human["answer"] == "use a hash map\nthen scan once"
    assert human["answered_by"] == "ada" and human["kind"] == "text" and not human["timed_out"]


async def test_request_holds_question_context_and_a_replay_stable_id() -> None:
    flow = asking(question="Fix {{ problem }}", kind="edit", proposed_key="code", syntax={"code": "python"})
    async with Runtime(store=MemoryStore()) as rt:
        first = await rt.run(flow, {"problem": "p1", "code": "print(1)", "tests": "1 passed"}, session="s")
        again = await rt.resume(first.run_id)  # replaying finds the same request, makes no new one
        desk = HumanDesk(rt)
        [request] = await desk.pending()
    assert again.status == "suspended"
    assert request.question == "Fix p1"
    assert request.proposed == "print(1)"
    assert request.context == {"problem": "p1", "tests": "1 passed"}
    assert request.syntax == {"proposed": "python"}
    assert request.run_id == first.run_id and request.path == "/0" and request.session == "s"


async def test_choice_answer_must_be_one_of_the_choices() -> None:
    flow = asking(question="Language?", kind="choice", choices=["python", "c++"])
    _, result = await ask_and_answer(flow, {}, "c++")
    assert result.output["human"]["answer"] == "c++"


async def test_choices_can_come_from_the_input() -> None:
    flow = asking(question="Which?", kind="choice")
    _, result = await ask_and_answer(flow, {"choices": ["a", "b"]}, {"choice": "b"})
    assert result.output["human"]["answer"] == "b"


async def test_approval_gate_returns_the_decision_and_comment() -> None:
    flow = asking(question="Run rm -rf build/?", kind="approve")
    _, result = await ask_and_answer(flow, {"command": "rm -rf build/"}, {"approved": False, "comment": "not now"})
    human = result.output["human"]
    assert human["approved"] is False and human["answer"] is False and human["comment"] == "not now"


async def test_rejected_gate_can_stop_the_run() -> None:
    flow = asking(question="Deploy?", kind="approve", on_reject="raise")
    _, result = await ask_and_answer(flow, {}, "reject")
    assert result.status == "failed"
    assert result.error.type == "Rejected" and "ada rejected" in result.error.message


async def test_edit_continues_with_the_edited_value() -> None:
    flow = asking(question="Edit the plan", kind="edit")
    _, result = await ask_and_answer(flow, {"proposed": "1. read\n2. sort"}, "1. read\n2. count")
    human = result.output["human"]
    assert human["answer"] == "1. read\n2. count" and human["edited"] is True


async def test_edit_of_a_structured_value_takes_json() -> None:
    flow = asking(question="Edit", kind="edit")
    _, result = await ask_and_answer(flow, {"proposed": {"steps": ["a"]}}, '{"steps": ["a", "b"]}')
    assert result.output["human"]["answer"] == {"steps": ["a", "b"]}


async def test_timeout_with_default_answer_goes_on() -> None:
    flow = asking(question="Approve?", kind="approve", timeout_s=0.2, default=True)
    async with Runtime(store=MemoryStore()) as rt:
        first = await rt.run(flow, {}, session="s")
        assert first.status == "suspended"
        await asyncio.sleep(0.3)
        desk = HumanDesk(rt)
        [result] = await desk.resume_due()  # the deadline made the request due
        with pytest.raises(Exception) as late:
            await desk.answer((await desk.store.for_run(first.run_id))[0].id, True)
    human = result.output["human"]
    assert result.status == "done" and human["timed_out"] is True and human["approved"] is True
    assert "expired" in str(late.value)


async def test_timeout_without_default_is_a_typed_error() -> None:
    flow = asking(question="Anyone?", timeout_s=0.1)
    async with Runtime(store=MemoryStore()) as rt:
        first = await rt.run(flow, {}, session="s")
        await asyncio.sleep(0.2)
        result = await rt.resume(first.run_id)
    assert result.status == "failed"
    assert result.error.type == "HumanTimeout" and "within 0.1 s" in result.error.message


async def test_short_wait_takes_an_answer_without_suspending() -> None:
    flow = asking(question="Quick?", wait_s=30, poll_s=0.02)
    async with Runtime(store=MemoryStore()) as rt:
        desk = HumanDesk(rt)

        async def answer_soon() -> None:
            while not (pending := await desk.pending()):
                await asyncio.sleep(0.01)
            await desk.answer(pending[0].id, "yes", by="bo")

        answering = asyncio.create_task(answer_soon())
        result = await rt.run(flow, {}, session="s")
        await answering
    assert result.status == "done" and result.output["human"]["answer"] == "yes"


async def test_short_wait_suspends_when_nobody_answers() -> None:
    flow = asking(question="Anyone?", wait_s=0.1, poll_s=0.02)
    async with Runtime(store=MemoryStore()) as rt:
        result = await rt.run(flow, {}, session="s")
        desk = HumanDesk(rt)
        [request] = await desk.pending()
        await desk.answer(request.id, "late but fine")
        [resumed] = await desk.resume_due()  # the suspension is recorded: its hold does not block the resume
    assert result.status == "suspended" and resumed.status == "done"


async def test_the_answered_call_is_journaled_and_not_asked_again(tmp_path: Any) -> None:
    calls: list[str] = []

    class Twice(CompositeFlow):
        class Input(BaseModel):
            problem: str

        async def handle(self, ctx: Any, data: Any) -> dict:
            plan = await self.call("plan", {"question": f"Plan {data.problem}?"})
            calls.append(plan["answer"])
            ok = await self.call("gate", {"plan": plan["answer"]})
            return {"plan": plan["answer"], "ok": ok["approved"]}

    flow = Twice(
        subflows={
            "plan": HumanFlow(),
            "gate": HumanFlow(config={"kind": "approve", "question": "Go with {{ plan }}?"}),
        },
        name="twice",
    )
    async with Runtime(store=SqliteStore(tmp_path / "runs.db")) as rt:
        first = await rt.run(flow, {"problem": "p"}, session="s")
        desk = HumanDesk(rt)
        [plan] = await desk.pending()
        middle = await desk.answer_and_resume(plan.id, "sort it")
        [gate] = await desk.pending()
        done = await desk.answer_and_resume(gate.id, True)
        asked = await desk.store.for_run(first.run_id)
    assert len(asked) == 2 and calls == ["sort it", "sort it"]  # replayed from the journal, never asked twice
    assert [first.status, middle.status, done.status] == ["suspended", "suspended", "done"]
    assert done.output == {"plan": "sort it", "ok": True}
    assert plan.id != gate.id and gate.context == {"plan": "sort it"}


def test_bad_config_is_refused_with_the_key() -> None:
    with pytest.raises(ConfigError, match="question.*not valid jinja2"):
        HumanFlow(config={"question": "{{ oops"})
    with pytest.raises(ConfigError, match="not one of the choices"):
        HumanFlow(config={"kind": "choice", "choices": ["a"], "default": "b"})
    with pytest.raises(ConfigError, match="kind"):
        HumanFlow(config={"kind": "vote"})


@pytest.mark.parametrize(
    ("config", "data", "problem"),
    [
        ({"question": "Plan {{ problem }}"}, {"task": "x"}, "'problem' is undefined"),
        ({"question": "{{ ''.__class__.__mro__ }}"}, {}, "unsafe"),
        ({"question": "Edit", "kind": "edit"}, {"code": "x"}, "needs the value to edit in the input key 'proposed'"),
        ({"question": "Pick", "kind": "choice"}, {}, "needs a list of text choices"),
        ({"question": "Pick", "kind": "choice"}, {"choices": "ab"}, "needs a list of text choices"),
        ({"question": "Pick", "kind": "choice"}, {"choices": [1, 2]}, "needs a list of text choices"),
    ],
)
async def test_bad_input_fails_the_run_with_a_clear_message(config: dict, data: dict, problem: str) -> None:
    async with Runtime(store=MemoryStore()) as rt:
        result = await rt.run(asking(**config), data, session="s")
        pending = await HumanDesk(rt).pending()
    assert result.status == "failed" and problem in result.error.message
    assert pending == []


async def test_memory_runtime_and_its_human_store_go_together() -> None:
    first, second = MemoryStore(), MemoryStore()
    assert human_store_for(first) is human_store_for(first)
    assert human_store_for(first) is not human_store_for(second)
    assert time.time() > 0
