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

from agents import ListRecorder, ModuleInput, PlannerFlow
from agents.eval import Example, Task
from aiflows.flow import Flow
from aiflows.llm.types import Request

from .rows import Row, Trajectory

__all__ = ["AgentFactory", "PLANNER_PROMPT", "TrainedPlanner", "collect_rollouts", "make_planner"]

AgentFactory = Callable[[PlannerFlow], Flow]
PLANNER_PROMPT = "{{ query }}\n{{ memory }}\nNext step?"


class TrainedPlanner(PlannerFlow):
    """The planner with the policy as its model; each request carries the seed of its rollout and turn.

    `seeds` maps a rollout id to its sampling seed (collect_rollouts fills it), so a planner call
    samples the same tokens whichever batch, process or order it runs in.
    """

    def __init__(self, *, seeds: dict[str, int] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seeds: dict[str, int] = {} if seeds is None else seeds

    def request(self, data: ModuleInput) -> Request:
        request = super().request(data)
        seed = self.seeds.get(data.rollout_id)
        if seed is None:
            return request
        return request.model_copy(update={"seed": (seed * 1_000_003 + data.turn * 7_919 + 17) % (1 << 62)})


def make_planner(
    backend: Any, recorder: ListRecorder, *, temperature: float, max_new_tokens: int, prompt: str = PLANNER_PROMPT
) -> TrainedPlanner:
    """The trained planner: the policy as its model, every call recorded."""
    return TrainedPlanner(
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

    All trajectories run at once, so a batching policy (`InProcessPolicy`) decodes their planner calls
    together. With `seeds` (one per example) trajectory g of example i samples from seed x 1000 + g
    (each request seeded by its rollout and turn), so its rows do not depend on which process runs it.
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
    jobs = [(i, example, g, f"{tag}-{example.id}-{g}") for i, example in enumerate(examples) for g in range(group)]
    if seeds is not None:
        planner.seeds.update({rid: seeds[i] * 1000 + g for i, _, g, rid in jobs})
    agent = agent_factory(planner)
    truncated: set[tuple[int, ...]] = getattr(policy, "truncated", set())
    counting = hasattr(policy, "in_flight") and hasattr(policy, "release")
    if counting:
        policy.in_flight = len(jobs)
    from aiflows.runtime import MemoryStore, Runtime

    # a fresh in-memory runtime without a journal: every rollout really calls the policy (a journal
    # or a shared store would answer a repeated request from an earlier run, and nothing would be recorded)
    async with Runtime(store=MemoryStore(), journal=False, trace=False) as rt:

        async def one(example: Example, rollout_id: str) -> tuple[dict[str, Any], str]:
            try:
                return await _run(rt, agent, example, rollout_id)
            finally:
                if counting:
                    policy.release()

        outputs = await asyncio.gather(*(one(example, rid) for _, example, _, rid in jobs))
    calls: dict[str, list[Any]] = {}
    for c in recorder.calls:
        if c.phase == "next_step" and c.response_ids:
            calls.setdefault(c.rollout_id, []).append(c)
    return [
        _trajectory(task, example, rid, output, failed, calls.get(rid, []), truncated)
        for (_, example, _, rid), (output, failed) in zip(jobs, outputs, strict=True)
    ]


async def _run(rt: Any, agent: Flow, example: Example, rollout_id: str) -> tuple[dict[str, Any], str]:
    try:
        data = {"query": example.query, "query_id": example.id, "rollout_id": rollout_id}
        result = await rt.run(agent, data, session=rollout_id)
        if result.error is not None:
            raise RuntimeError(f"{result.error.type}: {result.error.message}")
        return dict(result.output or {}), ""
    except Exception as exc:  # noqa: BLE001 - one failed run is recorded; the batch goes on
        return {}, f"agent: {type(exc).__name__}: {exc}"


def _trajectory(
    task: Task,
    example: Example,
    rollout_id: str,
    output: dict[str, Any],
    failed: str,
    calls: list[Any],
    truncated: set[tuple[int, ...]],
) -> Trajectory:
    reward = 0.0
    if not failed:
        try:
            reward = float(task.scorer(str(output.get("answer", "")), example))
        except Exception as exc:  # noqa: BLE001 - a reward that raises fails this trajectory only
            failed = f"reward: {type(exc).__name__}: {exc}"
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
        for k, c in enumerate(sorted(calls, key=lambda c: c.turn))
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
