"""Each module is any flow: a ChatFlow, a HumanFlow that suspends the run until a person answers, and
the four-engine tuple of model strings, each module calling its own model."""

from __future__ import annotations

import json

from scripted import responder

from agents import AgentFlow, LLMModule, PlannerFlow, build_agent
from agents.eval import generate_kb
from agents.tools import CalculatorTool, RetrieveTool
from aiflows import Runtime
from aiflows.human import HumanDesk, HumanFlow
from aiflows.llm import ChatFlow
from aiflows.llm.testing import LoopbackLLMServer


def city_query() -> tuple[str, int]:
    city = next(e for e in generate_kb(0).entities.values() if e.kind == "city")
    return f"What is the population, in thousands, of the city {city.name} plus 10?", city.attributes["population"] + 10


def tools(corpus) -> list[object]:
    return [RetrieveTool(config={"corpus": str(corpus), "backend": "bm25"}), CalculatorTool()]


async def test_a_chat_flow_executor_and_a_human_verifier(llm_server: LoopbackLLMServer, module_config, corpus) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    executor = ChatFlow(
        name="executor",
        config={
            **module_config(),
            "first_prompt": "Query: {{ query }}\nContext: {{ context }}\nTool to use:\n{{ tool }}\nWrite the tool call.",
        },
    )
    verifier = HumanFlow(
        name="verifier",
        config={
            "question": "Is this enough to answer {{ query }}?\n{{ memory }}",
            "kind": "choice",
            "choices": ["STOP", "CONTINUE"],
        },
    )
    agent = AgentFlow(
        planner=PlannerFlow(name="planner", config=module_config()),
        executor=executor,
        verifier=verifier,
        generator=LLMModule(name="generator", config=module_config()),
        tools=tools(corpus),
        max_steps=4,
    )
    query, expected = city_query()
    async with Runtime() as rt:
        desk = HumanDesk(rt)
        run = await rt.run(agent, {"query": query})
        assert run.status == "suspended"  # the person has not answered yet; nothing holds a thread
        [asked] = await desk.pending()
        assert "Tool: retrieve" in asked.question and asked.choices == ["STOP", "CONTINUE"]
        await desk.answer(asked.id, "CONTINUE", by="ada")
        await desk.resume_due()
        [asked] = await desk.pending()
        assert "Tool: calculator" in asked.question
        await desk.answer(asked.id, "STOP", by="ada")
        [done] = await desk.resume_due()
    assert done.status == "done", done
    out = done.output or {}
    assert out["answer"] == str(expected) and out["steps"] == 2 and out["stop_reason"] == "verifier"
    # the executor's model was asked once per turn, its answers read by the tolerant parser
    asked_executor = [r for r in llm_server.requests if "Write the tool call." in json.dumps(r.messages)]
    assert len(asked_executor) == 2


async def test_each_engine_of_the_tuple_calls_its_own_model(
    llm_server: LoopbackLLMServer, module_config, corpus
) -> None:
    script = responder(["retrieve", "calculator"])
    seen: list[tuple[str, str]] = []

    def by_model(request):
        prompt = str(request.messages[-1]["content"])
        phase = next(
            (p for key, p in (("Analyse", "analysis"), ("Choose the single", "plan"), ("Write the tool", "command"),
                              ("Does the memory", "verify"), ("answer the query", "answer")) if key in prompt),
            "?",
        )  # fmt: skip
        seen.append((phase, request.body["model"]))
        return script(request)

    llm_server.responder = by_model
    cfg = module_config()
    common = {k: cfg[k] for k in ("api_base", "api_key_env", "retry_base_s", "retry_max_s")}
    agent = build_agent(
        planner_main="openai/planner-main",
        planner_fixed="openai/planner-fixed",
        verifier="openai/verifier-m",
        executor="openai/executor-m",
        tools=tools(corpus),
        **common,
    )
    query, expected = city_query()
    out = await agent.run({"query": query})
    assert out["answer"] == str(expected)
    assert set(seen) == {
        ("analysis", "planner-fixed"),
        ("plan", "planner-main"),
        ("command", "executor-m"),
        ("verify", "verifier-m"),
        ("answer", "planner-fixed"),
    }
