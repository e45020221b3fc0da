"""Whole agents end to end with LLM modules over the loopback OpenAI-protocol server: a planner that
calls retrieve, then calculator, then stops; the recorder seam; garbage answers; traces by turn."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from scripted import responder

from agents import AgentFlow, ListRecorder, LLMModule, PlannerFlow, build_agent
from agents.eval import generate_kb
from agents.tools import CalculatorTool, RetrieveTool
from aiflows import Runtime
from aiflows.llm.testing import LoopbackLLMServer, Reply


def kb_question() -> tuple[str, int]:
    kb = generate_kb(0)
    city = next(e for e in kb.entities.values() if e.kind == "city")
    return f"What is the population, in thousands, of the city {city.name} plus 10?", city.attributes["population"] + 10


def tools(corpus: object) -> list[object]:
    return [RetrieveTool(config={"corpus": str(corpus), "backend": "bm25"}), CalculatorTool()]


async def test_retrieve_then_calculate_then_stop(llm_server: LoopbackLLMServer, module_config, corpus) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    recorder = ListRecorder()
    agent = build_agent(
        planner_main=module_config(), tools=tools(corpus), recorder=recorder, max_steps=6, **_common(module_config)
    )
    query, expected = kb_question()
    out = await agent.run({"query": query, "query_id": "q1", "rollout_id": "r0"})
    assert out["answer"] == str(expected)
    assert [t["action"]["tool_name"] for t in out["turns"]] == ["retrieve", "calculator"]
    assert out["turns"][1]["command"] == {"expression": f"{expected - 10} + 10"}
    assert (
        out["stop_reason"] == "verifier"
        and out["invalid_actions"] == 0
        and out["tool_calls"]
        == {
            "retrieve": 1,
            "calculator": 1,
        }
    )
    # every planner call was recorded with its ids; the planner's prompt lists each tool's metadata
    assert [(c.query_id, c.rollout_id, c.turn, c.phase) for c in recorder.calls] == [
        ("q1", "r0", 1, "next_step"),
        ("q1", "r0", 2, "next_step"),
    ]
    assert "Tool Name: retrieve" in recorder.calls[0].response
    planner_prompt = recorder.calls[0].prompt
    assert "- calculator: Evaluates an arithmetic expression exactly" in planner_prompt
    assert "limitations: knows only what the corpus says" in planner_prompt
    assert "input: query: string, k: integer" in planner_prompt or "input: query: string" in planner_prompt
    # the second planner prompt shows the memory of the first step (serialised, truncated result)
    assert "Action Step 1:\n  Tool: retrieve" in recorder.calls[1].prompt


def _common(module_config) -> dict[str, object]:
    cfg = module_config()
    return {k: cfg[k] for k in ("api_base", "api_key_env", "retry_base_s", "retry_max_s")}


async def test_an_unknown_tool_is_a_no_op_step_and_the_turn_budget_ends_the_loop(
    llm_server: LoopbackLLMServer, module_config, corpus
) -> None:
    llm_server.responder = responder(["web_browser"])  # never a tool the agent has: verifier never sees a sum
    agent = build_agent(planner_main=module_config(), tools=tools(corpus), max_steps=3, **_common(module_config))
    out = await agent.run({"query": kb_question()[0]})
    assert out["stop_reason"] == "max_steps" and out["steps"] == 3
    assert out["invalid_actions"] == 3 and out["tool_calls"] == {}
    assert all(t["invalid"] and "not one of the tools" in t["result"] for t in out["turns"])
    assert out["answer"] == "unknown"  # the generator found no calculator result in memory


async def test_a_model_that_answers_garbage_is_recorded_not_fatal(
    llm_server: LoopbackLLMServer, module_config, corpus
) -> None:
    script = responder(["retrieve", "calculator"])

    def garbage_planner(seen):  # the planner talks nonsense on every turn
        return "}}} no idea ###" if "Choose the single next step" in str(seen.messages[-1]["content"]) else script(seen)

    llm_server.responder = garbage_planner
    agent = build_agent(planner_main=module_config(), tools=tools(corpus), max_steps=2, **_common(module_config))
    out = await agent.run({"query": kb_question()[0]})
    assert out["invalid_actions"] == 2 and out["stop_reason"] == "max_steps"
    assert "no sub_goal" in out["turns"][0]["action"]["justification"]


async def test_a_provider_error_names_the_module(llm_server: LoopbackLLMServer, module_config, corpus) -> None:
    llm_server.responder = lambda seen: Reply(status=400, error={"message": "bad request", "type": "invalid"})
    agent = build_agent(planner_main=module_config(max_retries=0), tools=tools(corpus), **_common(module_config))
    with pytest.raises(Exception) as info:
        await agent.run({"query": "anything"})
    assert "AgentError" in str(info.value) and "analyzer" in str(info.value)


async def test_trace_shows_each_turn_with_its_module_calls_and_tokens(
    llm_server: LoopbackLLMServer, module_config, corpus, tmp_path
) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    planner = PlannerFlow(name="planner", config=module_config())
    modules = {role: LLMModule(name=role, config=module_config()) for role in ("executor", "verifier", "generator")}
    agent = AgentFlow(planner=planner, **modules, tools=tools(corpus), max_steps=4)
    from aiflows.runtime import SqliteStore

    store = tmp_path / "runs.db"
    async with Runtime(store=SqliteStore(store)) as rt:
        result = await rt.run(agent, {"query": kb_question()[0]})
    assert result.error is None
    shown = subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "trace", result.run_id, "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    turns = [i for i, line in enumerate(lines) if re.search(r"agent/turn \d", line)]
    assert len(turns) == 3  # the query analysis, then two turns
    second = "\n".join(lines[turns[1] : turns[2]])
    for part in ("agent/turn/planner", "agent/turn/executor", "agent/turn/retrieve", "agent/turn/verifier"):
        assert part in second
    assert re.search(r"agent/turn/planner [\d.]+ ms ok tokens=\d+", second)
    assert "agent/generator" in lines[-1]
