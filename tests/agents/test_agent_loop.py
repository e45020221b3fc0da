"""The loop with plain Python modules and tools: budgets, invalid actions, failing and hanging tools,
bad input, YAML agents (also through `aiflows run`), and memory kept per session."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import rule_modules as rm

from agents import AgentFlow, Memory, ToolMetadata
from agents.tools import CalculatorTool
from aiflows import ConfigError, FlowError, MemoryStore, Runtime, SchemaError, load_flow

SUPPORT = Path(__file__).resolve().parent / "support"
REPO = Path(__file__).resolve().parents[2]


def agent(*tools: object, **kwargs: object) -> AgentFlow:
    return AgentFlow(
        planner=rm.planner,
        executor=rm.executor,
        verifier=rm.verifier,
        generator=rm.generator,
        tools=list(tools) or [rm.lookup, CalculatorTool()],
        **kwargs,  # type: ignore[arg-type]
    )


async def test_plain_python_modules_run_the_paper_s_loop() -> None:
    out = await agent(max_steps=5).run({"query": "add 2 and 40, use lookup, calculator."})
    assert out["answer"] == "42"
    assert out["analysis"] == "the query has 7 words"
    assert [t["action"]["tool_name"] for t in out["turns"]] == ["lookup", "calculator"]
    assert out["turns"][0]["result"] == f"looked up {len('add 2 and 40, use lookup, calculator.')} characters"
    assert out["tool_calls"] == {"lookup": 1, "calculator": 1} and out["stop_reason"] == "verifier"


async def test_a_failing_tool_is_recorded_and_the_loop_goes_on() -> None:
    out = await agent(rm.Broken(name="broken"), CalculatorTool(), max_steps=4).run(
        {"query": "sum 1 and 2, use broken, calculator."}
    )
    first = out["turns"][0]
    assert not first["ok"] and not first["invalid"]
    assert first["result"].startswith("Error: RuntimeError: the tool's disk is full")
    assert out["tool_errors"] == 1 and out["answer"] == "3"


async def test_a_hanging_tool_is_cut_by_its_own_timeout() -> None:
    out = await agent(rm.Hangs(name="hangs", timeout=0.2), CalculatorTool(), max_steps=3).run(
        {"query": "sum 1 and 2, use hangs, calculator."}
    )
    assert out["turns"][0]["result"] == "Error: Timeout: no answer within its time limit of 0.2 s"
    assert out["answer"] == "3"


async def test_the_time_budget_ends_the_loop() -> None:
    slow = rm.Hangs(name="slow")  # sleeps `seconds` (0.3 here) on every call
    out = await agent(slow, CalculatorTool(), max_steps=10, max_time=0.2).run(
        {"query": "wait 0.3, use slow, slow, slow."}
    )
    assert out["stop_reason"] == "max_time" and out["steps"] == 1


async def test_invalid_tool_names_are_no_op_steps_until_the_turn_budget() -> None:
    out = await agent(max_steps=3).run({"query": "use teleport."})
    assert out["stop_reason"] == "max_steps" and out["invalid_actions"] == 3 and out["tool_calls"] == {}
    assert out["answer"] == "none"
    assert "Action Step 3 (invalid action):\n  Tool: teleport" in out["memory"]


async def test_an_empty_query_is_refused_with_a_schema_error() -> None:
    with pytest.raises(FlowError, match="query: String should have at least 1 character") as info:
        await agent().run({"query": ""})
    assert info.value.type == SchemaError.__name__


def test_missing_modules_and_tools_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="no verifier, generator"):
        AgentFlow(planner=rm.planner, executor=rm.executor, tools=[CalculatorTool()])
    with pytest.raises(ConfigError, match="has no tools"):
        AgentFlow(planner=rm.planner, executor=rm.executor, verifier=rm.verifier, generator=rm.generator)


async def test_memory_is_the_agent_s_own_state_per_session() -> None:
    store = MemoryStore()
    flow = agent(max_steps=3)
    async with Runtime(store=store) as rt:
        await asyncio.gather(
            rt.run(flow, {"query": "add 1 and 2, use calculator."}, session="ada"),
            rt.run(flow, {"query": "add 5 and 5, use lookup, calculator."}, session="bob"),
        )
        ada = await store.load_state("agent", "ada")
        bob = await store.load_state("agent", "bob")
    assert ada is not None and bob is not None
    assert Memory.model_validate(ada["memory"]).query == "add 1 and 2, use calculator."
    assert [s["tool_name"] for s in ada["memory"]["steps"]] == ["calculator"]
    assert [s["tool_name"] for s in bob["memory"]["steps"]] == ["lookup", "calculator"]
    assert ada["queries"] == bob["queries"] == 1


async def test_long_results_are_truncated_in_memory_so_prompts_stay_bounded() -> None:
    from aiflows import flow

    @flow
    def verbose(query: str) -> str:
        return "x" * 10_000

    out = await agent(verbose, CalculatorTool(), max_steps=3, max_result_chars=100).run(
        {"query": "use verbose, verbose, verbose."}
    )
    assert all(len(t["result"]) < 140 for t in out["turns"])
    assert "[9900 more characters]" in out["turns"][0]["result"]


def test_tool_metadata_comes_from_the_tool_flow() -> None:
    meta = CalculatorTool().metadata()
    assert meta.input_schema["properties"]["expression"]["type"] == "string"
    assert meta.limitations and meta.examples and meta.output
    assert "input: expression: string" in meta.render()
    from agents.tools import metadata_of

    plain = metadata_of(rm.lookup)
    assert plain == ToolMetadata(name="lookup", description=plain.description, input_schema=plain.input_schema)
    assert "query" in plain.input_schema["properties"]


AGENT_YAML = """
class: agents:AgentFlow
name: agent
config: {max_steps: 4, max_result_chars: 500}
subflows:
  planner: {function: rule_modules:planner}
  executor: {function: rule_modules:executor}
  verifier: {function: rule_modules:verifier}
  generator: {function: rule_modules:generator}
  calculator: {class: agents.tools:CalculatorTool}
  lookup: {function: rule_modules:lookup}
"""


def test_an_agent_from_yaml_runs_in_python_and_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(AGENT_YAML)
    sys.path.insert(0, str(SUPPORT))
    built = load_flow(path)
    assert isinstance(built, AgentFlow) and set(built.tools) == {"calculator", "lookup"}
    assert built.config.max_steps == 4
    done = subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "run", str(path), "--input", '{"query": "add 3 and 4, use calculator."}'],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**__import__("os").environ, "PYTHONPATH": f"{REPO}:{SUPPORT}"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == "7"


def test_a_malformed_agent_yaml_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(AGENT_YAML.replace("  verifier: {function: rule_modules:verifier}\n", ""))
    sys.path.insert(0, str(SUPPORT))
    with pytest.raises(ConfigError) as info:
        load_flow(path)
    assert "agent.yaml" in str(info.value) and "no verifier" in str(info.value)
    path.write_text(AGENT_YAML.replace("max_steps: 4", "max_steps: -1"))
    with pytest.raises(ConfigError, match="max_steps"):
        load_flow(path)


async def test_a_module_failure_is_an_error_naming_the_module() -> None:
    flow = AgentFlow(
        planner=rm.planner,
        executor=rm.executor,
        verifier=rm.Broken(name="v"),
        generator=rm.generator,
        tools=[CalculatorTool()],
    )
    with pytest.raises(FlowError, match="AgentError") as info:
        await flow.run({"query": "add 1 and 2, use calculator."})
    assert "verifier: RuntimeError: the tool's disk is full" in info.value.message
