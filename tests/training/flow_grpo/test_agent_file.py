"""`agent:` naming an agent YAML file: the file's agent rolls out with its planner's model replaced by the policy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aiflows.exceptions import ConfigError
from training.flow_grpo import InProcessPolicy, load_config, make_planner, train
from training.flow_grpo.setup import resolve_agent, resolve_policy, resolve_task

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "flow_grpo_kbqa_agent_file.yaml"
AGENT = ROOT / "examples" / "flow_grpo_agent.yaml"


def test_the_file_s_modules_stay_and_the_planner_gets_the_policy(tmp_path: Path) -> None:
    from agents import ListRecorder
    from training.flow_grpo.demo.task import ScriptedExecutor, ScriptedVerifier

    config = load_config(EXAMPLE, [f"out={tmp_path}", "max_turns=2", "temperature=0.9"])
    assert config.agent == str(AGENT)  # found beside the config
    task = resolve_task(config)
    policy = InProcessPolicy(*resolve_policy(config, tmp_path), max_new_tokens=1)
    recorder = ListRecorder()
    agent = resolve_agent(config, task, tmp_path)(make_planner(policy, recorder, temperature=0.9, max_new_tokens=1))
    planner = agent.planner
    assert planner.backend() is policy and planner.recorder is recorder  # type: ignore[union-attr]
    assert planner.config.temperature == 0.9 and planner.config.max_tokens == 1  # type: ignore[union-attr]
    assert planner.templates == {}  # type: ignore[union-attr]  # the file sets none: AgentFlow's own prompts
    assert isinstance(agent.modules["executor"], ScriptedExecutor)
    assert isinstance(agent.modules["verifier"], ScriptedVerifier)
    assert set(agent.tools) == {"retrieve", "calculator", "finish"} and agent.config.max_steps == 2


@pytest.mark.slow
def test_training_the_file_s_agent_raises_success(tmp_path: Path) -> None:
    result = train(load_config(EXAMPLE, [f"out={tmp_path}", "progress=false", "plot=false", "steps=6"]))
    success = [h["success"] for h in result.history]
    assert sum(success[:2]) / 2 < 0.3 and sum(success[-2:]) / 2 > sum(success[:2]) / 2 + 0.3
    assert all(h["truncated_rows"] == 0 for h in result.history)


@pytest.mark.slow
def test_the_example_through_the_command(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aiflows.cli", "train", "flow-grpo", str(EXAMPLE), f"out={tmp_path}", "steps=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "log.jsonl").read_text().count("\n") == 1


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_bad_agent_files_and_tasks_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        load_config(None, ["agent=nowhere/agent.yaml"])
    assert missing.value.key == "agent" and "nowhere/agent.yaml" in str(missing.value)
    with pytest.raises(ConfigError) as task:
        load_config(EXAMPLE, ["task=trivia"])
    assert task.value.key == "task" and "trivia" in str(task.value)
    tool = _write(
        tmp_path / "tool.yaml", AGENT.read_text().replace("agents.tools:CalculatorTool", "agents.tools:Abacus")
    )
    config = load_config(EXAMPLE, [f"agent={tool}", f"out={tmp_path}"])
    with pytest.raises(ConfigError) as bad_tool:
        resolve_agent(config, resolve_task(config), tmp_path)
    assert bad_tool.value.key == "agent" and "Abacus" in str(bad_tool.value) and str(tool) in str(bad_tool.value)
    flow = _write(tmp_path / "flow.yaml", "class: training.flow_grpo.demo.task:ScriptedVerifier\nname: v\n")
    config = load_config(EXAMPLE, [f"agent={flow}", f"out={tmp_path}"])
    with pytest.raises(ConfigError, match="not an AgentFlow") as not_agent:
        resolve_agent(config, resolve_task(config), tmp_path)
    assert not_agent.value.key == "agent"
