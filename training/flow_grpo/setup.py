"""What a config names, made real: the task (eval harness), the agent factory and the policy."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from agents.eval import Task
from aiflows.exceptions import ConfigError

from .config import FlowGRPOConfig
from .rollouts import AgentFactory, kbqa_scripted

__all__ = ["resolve_agent", "resolve_policy", "resolve_task"]


def resolve_task(config: FlowGRPOConfig) -> Task:
    """The eval-harness task, filtered to `task_kinds` and cut to `task_limit`."""
    from agents.eval import load_task

    task = load_task(config.task, data_dir=config.data_dir, split=config.split, seed=config.seed)
    examples = task.examples
    if config.task_kinds:
        examples = [e for e in examples if e.meta.get("kind") in config.task_kinds]
        if not examples:
            raise ConfigError(f"task {config.task!r} has no examples of kinds {config.task_kinds}", key="task_kinds")
    if config.task_limit is not None:
        examples = examples[: config.task_limit]
    return task.model_copy(update={"examples": examples})


def resolve_agent(config: FlowGRPOConfig, task: Task, run: Path) -> AgentFactory:
    """A registered agent, an agent YAML file (as `aiflows run` takes), or `module:function` called as
    function(task=..., max_turns=..., folder=...)."""
    if config.agent == "kbqa-scripted":
        if task.name != "kbqa":
            raise ConfigError(f"agent kbqa-scripted answers kbqa, not {task.name!r}", key="agent")
        return kbqa_scripted(task, run / "agent", config.max_turns)
    if config.agent.endswith((".yaml", ".yml")):
        from .agent_file import agent_from_file

        return agent_from_file(Path(config.agent), task, run / "agent", config.max_turns)
    module_name, _, name = config.agent.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"agent {config.agent!r}: cannot import {module_name!r} ({exc})", key="agent") from exc
    make = getattr(module, name, None)
    if make is None:
        raise ConfigError(f"agent {config.agent!r}: {module_name} has no {name!r}", key="agent")
    factory: AgentFactory = make(task=task, max_turns=config.max_turns, folder=run / "agent")
    return factory


def default_actions() -> list[str]:
    from .demo.task import REFERENCES, TOOLS

    return [f"Tool Name: {t}\nSub-Goal: {r}" for t in TOOLS for r in REFERENCES]


def resolve_policy(config: FlowGRPOConfig, run: Path) -> tuple[Any, Any]:
    """(model, tokenizer): a transformers folder, or `tiny`, built once in the run folder."""
    from .policy import build_tiny_policy, load_policy

    if config.policy == "tiny":
        folder = run / "tiny-policy"
        if not (folder / "config.json").is_file():
            build_tiny_policy(folder, config.tiny_actions or default_actions(), seed=config.seed)
        return load_policy(folder)
    try:
        return load_policy(config.policy)
    except (FileNotFoundError, OSError) as exc:
        raise ConfigError(str(exc), key="policy") from exc
