"""What the flows do with bad answers and bad problems: say so, record it, never crash."""

from __future__ import annotations

import pytest

from aiflows.exceptions import ConfigError, FlowError
from aiflows.hub import load_folder
from flows_hub.cc.flow import FLOWS


async def test_an_answer_without_code_is_told_to_the_model_and_recorded(llm, samples, kit) -> None:
    problem = samples["sum_list"]
    right = kit.submission(problem, "accepted")
    model = kit.ScriptedModel(lambda request, turn: "I would add the numbers." if turn == 1 else kit.fenced(right))
    llm.responder = model
    flow = FLOWS["Code_Debug"](config=kit.chat_config(llm))
    try:
        out = await flow.run({"problem": problem.model_dump(mode="json")})
    finally:
        flow.close()
    first_code, first_test = out["steps"][0], out["steps"][1]
    assert first_code == {"stage": "code", "round": 1, "has_code": False}
    assert first_test["verdict"] == "NO_CODE"
    assert "no ```python code block" in model.calls["coder"][1].messages[-1]["content"]
    assert out["code"] == right and out["sample_verdict"] == "AC"


@pytest.mark.parametrize("name", ["Code", "Code_Debug", "Code_Collab"])
async def test_a_model_that_never_writes_code_ends_with_a_failure_not_a_crash(name: str, llm, samples, kit) -> None:
    llm.responder = kit.ScriptedModel(lambda request, turn: "No idea, sorry.")
    flow = FLOWS[name](config=kit.chat_config(llm, debug_rounds=2))
    try:
        out = await flow.run({"problem": samples["sum_list"].model_dump(mode="json")})
    finally:
        flow.close()
    assert out["code"] is None
    assert "no ```python code block" in out["failure"]


async def test_a_program_that_does_not_compile_gets_the_error_back(llm, samples, kit) -> None:
    problem = samples["sum_list"]
    right = kit.submission(problem, "accepted")
    model = kit.ScriptedModel(lambda request, turn: kit.fenced("def broken(:\n    pass\n" if turn == 1 else right))
    llm.responder = model
    flow = FLOWS["Code_Debug"](config=kit.chat_config(llm))
    try:
        out = await flow.run({"problem": problem.model_dump(mode="json")})
    finally:
        flow.close()
    assert out["steps"][1]["verdict"] in ("CE", "RTE")
    assert "SyntaxError" in model.calls["coder"][1].messages[-1]["content"]
    assert out["sample_verdict"] == "AC"


async def test_oracle_without_a_plan_names_the_problem(llm, samples, kit) -> None:
    llm.responder = kit.ScriptedModel(lambda request, turn: "unused")
    flow = FLOWS["Plan_Oracle-Code"](config=kit.chat_config(llm))
    with pytest.raises(FlowError) as caught:
        await flow.run({"problem": samples["sum_list"].model_dump(mode="json")})
    assert caught.value.type == "NoPlanError"
    assert "sum_list" in caught.value.message and "metadata['plan']" in caught.value.message
    assert llm.requests == []  # it failed before asking any model


def test_the_hub_folder_builds_any_variant_and_rejects_unknown_ones(kit) -> None:
    flow = load_folder(kit.folder, config={"flow": "Plan_Collab-Code"})
    assert set(flow.subflows) == {"coder", "planner", "plan_critic"}
    assert load_folder(kit.folder).variant == "Code_Debug"  # the manifest's default
    with pytest.raises(ConfigError) as caught:
        load_folder(kit.folder, config={"flow": "Code_Dbug"})
    assert "Code_Dbug" in str(caught.value) and "Code_Debug" in str(caught.value)


async def test_a_problem_that_does_not_fit_the_input_is_a_schema_error(kit) -> None:
    with pytest.raises(FlowError) as caught:
        await FLOWS["Code"]().run({"problem": {"id": "x"}})
    assert caught.value.type == "SchemaError" and "problem.title" in caught.value.message
