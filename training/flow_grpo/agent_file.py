"""An agent YAML file (the format `aiflows run agent.yaml` and `aiflows agent eval --agent` take) as the rollout agent.

Every module and tool stays what the file says (frozen models, Python flows, tools and their config);
only the planner's main model is replaced by the policy being trained: the file's planner keeps its
name, prompts and settings, and gets the policy as its backend and the trainer's recorder. The trainer's
`max_turns` is the agent's `max_steps`. A retrieve tool without a corpus reads the task's corpus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agents import AgentFlow, PlannerFlow
from agents.eval import Task
from agents.tools.retrieve import RetrieveTool
from aiflows.exceptions import ConfigError
from aiflows.flow import Flow

from .rollouts import AgentFactory, TrainedPlanner

__all__ = ["agent_from_file"]


def _load(path: Path, overrides: dict[str, Any] | None = None) -> AgentFlow:
    from aiflows.loader import load_flow

    try:
        agent = load_flow(path, overrides=overrides)
    except ConfigError as exc:
        raise ConfigError(f"agent file {path}: {exc}", key="agent") from exc
    if not isinstance(agent, AgentFlow):
        raise ConfigError(f"agent file {path} declares a {type(agent).__name__}, not an AgentFlow", key="agent")
    if not isinstance(agent.planner, PlannerFlow):
        kind = type(agent.planner).__name__
        raise ConfigError(f"agent file {path}: the planner is a {kind}, not a PlannerFlow to train", key="agent")
    return agent


def agent_from_file(path: Path, task: Task, folder: Path, max_turns: int) -> AgentFactory:
    """A factory building the file's agent around the trained planner (the file is checked once, here)."""
    if not path.is_file():
        raise ConfigError(f"no agent file at {path}", key="agent")
    checked = _load(path)
    overrides: dict[str, Any] = {}
    for name, tool in checked.tools.items():  # a retrieve tool without a corpus: the task's
        if isinstance(tool, RetrieveTool) and not tool.config.corpus and task.corpus:
            folder.mkdir(parents=True, exist_ok=True)
            corpus = folder / "corpus.jsonl"
            corpus.write_text("".join(json.dumps(row) + "\n" for row in task.corpus))
            overrides[f"subflows.{name}.config.corpus"] = str(corpus)

    def factory(trained: PlannerFlow) -> Flow:
        agent = _load(path, overrides)
        planner = agent.planner
        assert isinstance(planner, PlannerFlow)
        settings: dict[str, Any] = {
            **planner.config.model_dump(exclude_unset=True),
            "model": trained.config.model,
            "temperature": trained.config.temperature,
            "max_tokens": trained.config.max_tokens,
        }
        policy_planner = TrainedPlanner(
            seeds=getattr(trained, "seeds", None),
            name=planner.name,
            config=settings,
            backend=trained.backend(),
            recorder=trained.recorder,
            prompts={phase: t.source for phase, t in planner.templates.items()},
        )
        modules = agent.modules
        return AgentFlow(
            planner=policy_planner,
            executor=modules["executor"],
            verifier=modules["verifier"],
            generator=modules["generator"],
            analyzer=modules.get("analyzer"),
            tools=agent.tools,
            config={**agent.config.model_dump(), "max_steps": max_turns},
            name=agent.name,
        )

    return factory
