"""Each of the ten flows, end to end on a sample problem, against a scripted OpenAI-protocol server."""

from __future__ import annotations

import pytest

from aiflows.judge import judge
from aiflows.llm.testing import SeenRequest
from flows_hub.cc.flow import FLOWS, VARIANTS

pytestmark = pytest.mark.slow

PLAN = "Editorial: read n, then add the n numbers with Python's big integers."


@pytest.mark.parametrize("name", sorted(FLOWS))
async def test_every_flow_runs_end_to_end_and_its_code_is_accepted(name: str, llm, samples, kit) -> None:
    problem = samples["sum_list"]
    problem = problem.model_copy(update={"metadata": {**problem.metadata, "plan": PLAN}})
    right = kit.submission(problem, "accepted")
    model = kit.ScriptedModel(lambda request, turn: kit.fenced(right))
    llm.responder = model
    flow = FLOWS[name](config=kit.chat_config(llm))
    try:
        out = await flow.run({"problem": problem.model_dump(mode="json")}, session=f"t-{name}")
    finally:
        flow.close()

    assert out["code"] == right
    assert judge(problem, out["code"], "python").accepted
    plan_mode, code_mode = VARIANTS[name]
    coder_prompts = [r.messages[-1]["content"] for r in model.calls["coder"]]
    assert "Sum of a List" in model.calls["coder"][0].messages[1]["content"]
    # What each variant is made of shows in who was asked what.
    assert ("planner" in model.calls) == (plan_mode in ("plan", "plan_reflect", "plan_collab"))
    assert ("plan_critic" in model.calls) == (plan_mode == "plan_collab")
    assert ("code_critic" in model.calls) == (code_mode == "collab")  # debug_collab: samples pass, no critic
    if plan_mode == "oracle":
        assert PLAN in coder_prompts[0]
    if plan_mode in ("plan", "plan_reflect", "plan_collab"):
        assert model.plan in coder_prompts[0]
    if plan_mode == "plan_reflect":
        assert any("reflect on it" in r.messages[-1]["content"] for r in model.calls["planner"][1:])
    if code_mode == "reflect":
        assert len(coder_prompts) == 2 and "reflect on your program" in coder_prompts[1]
    if code_mode == "collab":
        assert "A reviewer read your program" in coder_prompts[1]
        assert right.strip() in model.calls["code_critic"][0].messages[-1]["content"]
    if code_mode in ("debug", "debug_collab"):
        assert out["sample_verdict"] == "AC" and out["rounds"] == 1
        assert [s["stage"] for s in out["steps"]][-2:] == ["code", "test"]
    else:
        assert out["sample_verdict"] is None  # only the debug variants run the samples


def _fails_first(kit, problem):
    wrong, right = kit.submission(problem, "wrong_answer"), kit.submission(problem, "accepted")

    def coder(request: SeenRequest, turn: int) -> str:
        return kit.fenced(wrong if turn == 1 else right)

    return wrong, right, coder


@pytest.mark.parametrize("name", ["Code_Debug", "Code_Debug_Collab", "Plan_Oracle-Code_Debug_Collab"])
async def test_debug_loop_fixes_a_wrong_program_with_the_judges_feedback(name: str, llm, samples, kit) -> None:
    problem = samples["reverse_words"]
    problem = problem.model_copy(update={"metadata": {**problem.metadata, "plan": PLAN}})
    wrong, right, coder = _fails_first(kit, problem)
    model = kit.ScriptedModel(coder)
    llm.responder = model
    flow = FLOWS[name](config=kit.chat_config(llm))
    try:
        out = await flow.run({"problem": problem.model_dump(mode="json")}, session="fix")
    finally:
        flow.close()

    assert out["code"] == right and out["sample_verdict"] == "AC" and out["rounds"] == 2
    second = model.calls["coder"][1].messages[-1]["content"]
    first_test = next(s for s in out["steps"] if s["stage"] == "test")
    assert first_test["verdict"] == "WA"
    # The second request carries the judge's words: what failed, expected vs got.
    assert "Wrong answer (WA) on sample" in second and "Expected output:" in second
    assert first_test["feedback"].splitlines()[1] in second
    # The conversation goes on: the first answer is in the history the model sees.
    assert any(m["role"] == "assistant" and wrong.strip() in m["content"] for m in model.calls["coder"][1].messages)
    if name != "Code_Debug":
        assert "A reviewer read your program" in second and model.critic in second
        assert "Wrong answer (WA)" in model.calls["code_critic"][0].messages[-1]["content"]
    assert judge(problem, out["code"], "python").accepted


async def test_debug_stops_after_four_rounds(llm, samples, kit) -> None:
    problem = samples["sum_list"]
    model = kit.ScriptedModel(lambda request, turn: kit.fenced("print(0)\n"))
    llm.responder = model
    flow = FLOWS["Code_Debug"](config=kit.chat_config(llm))
    try:
        out = await flow.run({"problem": problem.model_dump(mode="json")}, session="bound")
    finally:
        flow.close()
    assert out["rounds"] == 4 and len(model.calls["coder"]) == 4
    assert out["sample_verdict"] == "WA"
    assert [s["verdict"] for s in out["steps"] if s["stage"] == "test"] == ["WA"] * 4


async def test_collab_stops_when_the_critic_finds_no_issues(llm, samples, kit) -> None:
    problem = samples["sum_list"]
    right = kit.submission(problem, "accepted")
    model = kit.ScriptedModel(lambda request, turn: kit.fenced(right), critic="NO ISSUES")
    llm.responder = model
    out = await FLOWS["Code_Collab"](config=kit.chat_config(llm)).run({"problem": problem.model_dump(mode="json")})
    assert out["rounds"] == 1 and len(model.calls["code_critic"]) == 1
