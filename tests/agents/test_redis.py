"""An agent whose tools are served by `aiflows serve` workers in other processes, over a real redis-server."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
from scripted import responder

from agents import build_agent
from agents.eval import generate_kb
from aiflows import FlowError, Runtime
from aiflows.llm.testing import LoopbackLLMServer

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bus" / "support"))
SUPPORT = Path(__file__).resolve().parent / "support"

from redis_support import WorkerProcess  # noqa: E402


def runtime(url: str, ns: str) -> Runtime:
    from aiflows.bus.redis import RedisBus
    from aiflows.runtime.store.redis import RedisStore

    return Runtime(bus=RedisBus(url, namespace=ns), store=RedisStore(url, namespace=ns))


async def test_tools_served_by_workers_in_other_processes(
    redis_url: str, llm_server: LoopbackLLMServer, module_config, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = f"a{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("PYTHONPATH", str(SUPPORT))
    monkeypatch.setenv("AIFLOWS_AGENT_CORPUS", str(corpus))  # only the workers read it: this process has no corpus
    with (
        WorkerProcess("agent_tools:calculator", redis_url, ns) as calc,
        WorkerProcess("agent_tools:retrieve", redis_url, ns) as retr,
    ):
        monkeypatch.delenv("AIFLOWS_AGENT_CORPUS")
        assert calc.served == ["calculator"] and retr.served == ["retrieve"]
        llm_server.responder = responder(["retrieve", "calculator"])
        cfg = module_config()
        agent = build_agent(
            planner_main=cfg,
            tools=["calculator", "retrieve"],  # addresses served elsewhere; metadata asked over the bus
            **{k: cfg[k] for k in ("api_base", "api_key_env", "retry_base_s", "retry_max_s")},
        )
        city = next(e for e in generate_kb(0).entities.values() if e.kind == "city")
        async with runtime(redis_url, ns) as rt:
            out = (await rt.run(agent, {"query": f"What is the population of the city {city.name} plus 10?"})).unwrap()
        assert out["answer"] == str(city.attributes["population"] + 10)
        assert out["tool_calls"] == {"retrieve": 1, "calculator": 1}
        planner_prompt = next(r for r in llm_server.requests if "Choose the single next step" in str(r.messages))
        assert "limitations: knows only what the corpus says" in planner_prompt.messages[-1]["content"]


async def test_a_tool_nobody_serves_is_an_error_naming_it(
    redis_url: str, llm_server: LoopbackLLMServer, module_config
) -> None:
    ns = f"a{uuid.uuid4().hex[:10]}"
    llm_server.responder = responder()
    cfg = module_config()
    agent = build_agent(
        planner_main=cfg, tools=["nowhere/calculator"], api_base=cfg["api_base"], api_key_env=cfg["api_key_env"]
    )
    async with runtime(redis_url, ns) as rt:
        with pytest.raises(FlowError) as info:
            (await rt.run(agent, {"query": "add 1 and 2"})).unwrap()
    assert info.value.type == "ToolUnavailable"
    assert "calculator: cannot reach the tool at 'nowhere/calculator'" in info.value.message
