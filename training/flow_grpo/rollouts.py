"""Rollouts: the real agent flow run G times per query with the policy as the planner's main model.

The planner (a `PlannerFlow`) gets the policy as its backend and a recorder; every other module is
whatever the agent factory builds. Each recorded next-step call becomes a `Row`; the trajectory's
reward is the task's exact scorer on the agent's answer. A scorer that raises, or a run that fails,
gives a failed trajectory (reward 0, counted in `failed`), never a lost one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents import ListRecorder, PlannerFlow
from agents.eval import Example, Task
from aiflows.flow import Flow

from .rows import Row, Trajectory

__all__ = ["AgentFactory", "PLANNER_PROMPT", "collect_rollouts", "make_planner"]

AgentFactory = Callable[[PlannerFlow], Flow]
PLANNER_PROMPT = "{{ query }}\n{{ memory }}\nNext step?"


def make_planner(
    backend: Any, recorder: ListRecorder, *, temperature: float, max_new_tokens: int, prompt: str = PLANNER_PROMPT
) -> PlannerFlow:
    """The trained planner: the policy as its model, every call recorded."""
    return PlannerFlow(
        name="planner",
        backend=backend,
        recorder=recorder,
        prompts={"next_step": prompt},
        config={"model": "policy", "temperature": temperature, "max_tokens": max_new_tokens},
    )


def collect_rollouts(
    agent_factory: AgentFactory,
    policy: Any,
    task: Task,
    examples: list[Example],
    *,
    group: int,
    temperature: float,
    max_new_tokens: int,
    tag: str = "r",
    seeds: list[int] | None = None,
) -> list[Trajectory]:
    """`group` trajectories per example, in order (query by query), each with its planner rows.

    With `seeds` (one per example) a policy that can `reseed` is reseeded before each trajectory
    (seed x 1000 + g), so a trajectory's samples do not depend on which process or in what order it runs.
    """
    return asyncio.run(_collect(agent_factory, policy, task, examples, group, temperature, max_new_tokens, tag, seeds))


async def _collect(
    agent_factory: AgentFactory,
    policy: Any,
    task: Task,
    examples: list[Example],
    group: int,
    temperature: float,
    max_new_tokens: int,
    tag: str,
    seeds: list[int] | None,
) -> list[Trajectory]:
    recorder = ListRecorder()
    planner = make_planner(policy, recorder, temperature=temperature, max_new_tokens=max_new_tokens)
    agent = agent_factory(planner)
    truncated: set[tuple[int, ...]] = getattr(policy, "truncated", set())
    out: list[Trajectory] = []
    from aiflows.runtime import MemoryStore, Runtime

    # a fresh in-memory runtime without a journal: every rollout really calls the policy (a journal
    # or a shared store would answer a repeated request from an earlier run, and nothing would be recorded)
    async with Runtime(store=MemoryStore(), journal=False, trace=False) as rt:
        for i, example in enumerate(examples):
            for g in range(group):
                out.append(await _one(rt, agent, task, example, g, recorder, truncated, policy, seeds, i, tag))
    return out


async def _one(
    rt: Any,
    agent: Flow,
    task: Task,
    example: Example,
    g: int,
    recorder: ListRecorder,
    truncated: set[tuple[int, ...]],
    policy: Any,
    seeds: list[int] | None,
    i: int,
    tag: str,
) -> Trajectory:
    if seeds is not None and hasattr(policy, "reseed"):
        policy.reseed(seeds[i] * 1000 + g)
    rollout_id = f"{tag}-{example.id}-{g}"
    before = len(recorder.calls)
    failed = ""
    output: dict[str, Any] = {}
    try:
        data = {"query": example.query, "query_id": example.id, "rollout_id": rollout_id}
        result = await rt.run(agent, data, session=rollout_id)
        if result.error is not None:
            raise RuntimeError(f"{result.error.type}: {result.error.message}")
        output = dict(result.output or {})
    except Exception as exc:  # noqa: BLE001 - one failed run is recorded; the batch goes on
        failed = f"agent: {type(exc).__name__}: {exc}"
    reward = 0.0
    if not failed:
        try:
            reward = float(task.scorer(str(output.get("answer", "")), example))
        except Exception as exc:  # noqa: BLE001 - a reward that raises fails this trajectory only
            failed = f"reward: {type(exc).__name__}: {exc}"
    calls = [c for c in recorder.calls[before:] if c.phase == "next_step" and c.response_ids]
    rows = [
        Row(
            query_id=example.id,
            rollout_id=rollout_id,
            turn=k,
            prompt_ids=c.prompt_ids,
            response_ids=c.response_ids,
            old_logprobs=c.logprobs,
            truncated=tuple(c.prompt_ids) in truncated,
        )
        for k, c in enumerate(calls)
    ]
    return Trajectory(
        query_id=example.id,
        rollout_id=rollout_id,
        reward=reward,
        rows=rows,
        turns=int(output.get("steps", len(rows))),
        invalid_actions=int(output.get("invalid_actions", 0)),
        failed=failed,
    )


def kbqa_scripted(task: Task, folder: Path, max_turns: int) -> AgentFactory:
    """The kbqa agent with scripted executor, verifier and generator (only the planner learns)."""
    import json

    from .demo.task import build_demo_agent

    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(row) + "\n" for row in task.corpus))

    def factory(planner: PlannerFlow) -> Flow:
        return build_demo_agent(planner, corpus, max_steps=max_turns)

    return factory
