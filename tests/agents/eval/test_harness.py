"""The evaluation harness: records per query, failures recorded while the rest goes on, resumable runs,
the report, trace ids that `aiflows trace` opens, and `aiflows agent eval` from the shell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scripted import responder

from agents import build_agent
from agents.eval import EvalConfig, Example, Task, evaluate_agent, load_task, score_kbqa
from agents.tools import CalculatorTool, RetrieveTool
from aiflows import Runtime
from aiflows.llm.testing import LoopbackLLMServer
from aiflows.runtime import SqliteStore

REPO = Path(__file__).resolve().parents[3]


def scripted_agent(module_config):
    cfg = module_config()
    common = {k: cfg[k] for k in ("api_base", "api_key_env", "retry_base_s", "retry_max_s")}
    tools = [RetrieveTool(config={"backend": "bm25"}), CalculatorTool()]
    return build_agent(planner_main=cfg, tools=tools, max_steps=4, **common)


@pytest.mark.slow
async def test_records_report_and_resume(llm_server: LoopbackLLMServer, module_config, tmp_path: Path) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    task = load_task("kbqa", split="train")  # 25 one-hop questions first, then 25 two-hop ones
    agent = scripted_agent(module_config)
    out = tmp_path / "eval"
    store = tmp_path / "runs.db"
    async with Runtime(store=SqliteStore(store)) as rt:
        first = await evaluate_agent(agent, task, EvalConfig(out=out, limit=3, jobs=2, progress=False), runtime=rt)
        asked = len(llm_server.requests)
        report = await evaluate_agent(agent, task, EvalConfig(out=out, limit=28, jobs=3, progress=False), runtime=rt)
    assert first.runs == 3 and report.runs == 28
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 28 and len({r["id"] for r in records}) == 28  # the first 3 were not run again
    assert len(llm_server.requests) - asked == 25 * (asked // 3)  # every query asks the model equally often
    by_id = {r["id"]: r for r in records}
    for example in task.examples[:28]:
        record = by_id[example.id]
        # the scripted planner answers one-hop questions right and multi-hop ones wrong
        assert record["score"] == (1.0 if example.meta["kind"] == "attribute" else 0.0), record
        assert record["score"] == score_kbqa(record["answer"], example)
        assert record["trajectory"] and record["trace_id"] and record["prompt_tokens"] > 0
    assert report.accuracy == pytest.approx(25 / 28)
    assert report.accuracy_low <= report.accuracy <= report.accuracy_high
    assert report.tool_calls["retrieve"] == 28 and report.invalid_action_rate == 0.0
    assert sum(report.turns.values()) == 28 and report.prompt_tokens > 0
    assert (out / "report.md").read_text().startswith("# Agent evaluation: kbqa")
    assert json.loads((out / "report.json").read_text())["runs"] == 28
    assert (out / "report.png").stat().st_size > 1000
    shown = subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "trace", records[0]["trace_id"], "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0 and "agent/turn" in shown.stdout


async def test_a_failing_query_is_recorded_and_the_others_go_on(
    llm_server: LoopbackLLMServer, module_config, tmp_path: Path
) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    kbqa = load_task("kbqa", split="train")
    good = kbqa.examples[:2]
    examples = [good[0], Example(id="empty", query="", answer="1"), good[1]]
    task = Task(name="kbqa", examples=examples, scorer=score_kbqa, corpus=kbqa.corpus)
    report = await evaluate_agent(
        scripted_agent(module_config), task, EvalConfig(out=tmp_path / "e", samples=2, progress=False)
    )
    records = [json.loads(line) for line in (tmp_path / "e" / "records.jsonl").read_text().splitlines()]
    failed = [r for r in records if r["error"]]
    assert len(records) == 6 and {r["id"] for r in failed} == {"empty"} and len(failed) == 2
    assert "SchemaError" in failed[0]["error"] and failed[0]["score"] == 0.0
    assert report.failed_runs == 2 and report.queries == 3 and report.accuracy == pytest.approx(2 / 3)


AGENT_YAML = """
class: agents:AgentFlow
config: {{max_steps: 4}}
subflows:
  planner: {{class: agents:PlannerFlow, config: {cfg}}}
  executor: {{class: agents:LLMModule, config: {cfg}}}
  verifier: {{class: agents:LLMModule, config: {cfg}}}
  generator: {{class: agents:LLMModule, config: {cfg}}}
  retrieve: {{class: agents.tools:RetrieveTool, config: {{backend: bm25}}}}
  calculator: {{class: agents.tools:CalculatorTool}}
"""


@pytest.mark.slow
def test_aiflows_agent_eval_from_the_shell(llm_server: LoopbackLLMServer, module_config, tmp_path: Path) -> None:
    llm_server.responder = responder(["retrieve", "calculator"])
    cfg = json.dumps({k: v for k, v in module_config().items()})
    (tmp_path / "agent.yaml").write_text(AGENT_YAML.format(cfg=cfg))
    args = [
        sys.executable, "-m", "aiflows.cli", "agent", "eval", "--task", "kbqa", "--split", "train",
        "--agent", str(tmp_path / "agent.yaml"), "--limit", "4", "-j", "2", "--samples", "2",
        "--out", str(tmp_path / "out"), "--store", str(tmp_path / "runs.db"), "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "AGENT_TEST_KEY": "sk-test"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "kbqa: accuracy 100.0%" in done.stdout and "over 4 queries, 8 runs, 0 failed" in done.stdout
    asked = len(llm_server.requests)
    again = subprocess.run(args, capture_output=True, text=True, timeout=180, env=env, cwd=tmp_path)
    assert again.returncode == 0 and len(llm_server.requests) == asked  # resumed: nothing left to run
    bad = subprocess.run(
        [*args[:9], "--agent", str(tmp_path / "missing.yaml")], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 1 and "ConfigError" in bad.stderr and "missing.yaml" in bad.stderr
