"""Running the agent on questions: the demonstrator's traces, held-out evaluation, training rollouts.

Every arm runs the same `AgentFlow` (task.build_demo_agent); only the planner's backend changes.
A batch of rollouts runs concurrently in one fresh in-memory runtime without a journal or traces
(as the library's `collect_rollouts` does), so every planner call reaches the policy being trained
and nothing from an earlier run can answer it. The planner carries a `ListRecorder`, the seam a
trainer collects rows through; calls are told apart by their rollout id.

Why not `training.flow_grpo.collect_rollouts`: it runs trajectories one after another, each planner
call a decode of its own; here all G x queries trajectories run at once, so their planner calls meet
in `LivePolicy` and are decoded as one batch, the difference between minutes and seconds on a CPU.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from agents import ListRecorder, PlannerCall, PlannerFlow
from agents.eval.kbqa import KBQuestion
from aiflows.llm import Backend

from .policy import LivePolicy
from .task import PLANNER_PROMPT, build_demo_agent, reward

__all__ = ["Rollout", "make_planner", "rollout", "success"]

SYSTEM = "Plan the next step."


def make_planner(backend: Backend, *, temperature: float, recorder: ListRecorder | None = None) -> PlannerFlow:
    """The planner flow every arm uses: the demo's short prompt, answers of at most 16 tokens."""
    return PlannerFlow(
        name="planner",
        backend=backend,
        recorder=recorder,
        prompts={"next_step": PLANNER_PROMPT},
        config={"model": "demo-planner", "temperature": temperature, "max_tokens": 16, "system_prompt": SYSTEM},
    )


class Rollout:
    """One trajectory: its reward, its turns and the planner calls recorded along the way."""

    def __init__(
        self,
        question: KBQuestion,
        output: dict[str, Any],
        calls: list[PlannerCall],
        *,
        rollout_id: str = "",
        failed: str = "",
    ) -> None:
        self.question = question
        self.rollout_id = rollout_id
        self.output = output
        self.calls = calls
        self.failed = failed  # the run's error (reward 0), kept and counted rather than lost
        self.reward = reward(str(output.get("answer", "")), question)
        self.invalid = int(output.get("invalid_actions", 0))
        self.turns = int(output.get("steps", 0))


def rollout(
    backend: Backend, corpus: Path, questions: list[KBQuestion], *, temperature: float, group: int = 1, tag: str = "r"
) -> list[Rollout]:
    """`group` trajectories per question through the agent, run concurrently, each planner call recorded."""
    return asyncio.run(_rollouts(backend, corpus, questions, temperature, group, tag))


async def _rollouts(
    backend: Backend, corpus: Path, questions: list[KBQuestion], temperature: float, group: int, tag: str
) -> list[Rollout]:
    from aiflows.runtime import MemoryStore, Runtime

    jobs = [(q, g) for q in questions for g in range(group)]
    live = backend if isinstance(backend, LivePolicy) else None
    if live is not None:
        live.active = len(jobs)
    recorder = ListRecorder()
    agent = build_demo_agent(make_planner(backend, temperature=temperature, recorder=recorder), corpus)
    outputs: dict[str, tuple[dict[str, Any], str]] = {}

    async def one(rt: Runtime, q: KBQuestion, rollout_id: str) -> None:
        try:
            data = {"query": q.question, "query_id": q.id, "rollout_id": rollout_id}
            result = await rt.run(agent, data, session=rollout_id)
            error = result.error
            outputs[rollout_id] = (dict(result.output or {}), f"{error.type}: {error.message}" if error else "")
        finally:
            if live is not None:
                live.active -= 1

    async with Runtime(store=MemoryStore(), journal=False, trace=False) as rt:
        await asyncio.gather(*(one(rt, q, f"{tag}-{q.id}-{g}") for q, g in jobs))
    calls: dict[str, list[PlannerCall]] = {}
    for c in recorder.calls:
        if c.phase == "next_step":
            calls.setdefault(c.rollout_id, []).append(c)
    out = []
    for q, g in jobs:
        rid = f"{tag}-{q.id}-{g}"
        output, failed = outputs[rid]
        turns = sorted(calls.get(rid, []), key=lambda c: c.turn)
        out.append(Rollout(q, output, turns, rollout_id=rid, failed=failed))
    return out


def success(backend: Backend, corpus: Path, questions: list[KBQuestion], *, temperature: float) -> float:
    """The fraction of `questions` answered exactly (one trajectory each)."""
    done = rollout(backend, corpus, questions, temperature=temperature)
    return sum(r.reward for r in done) / max(1, len(done))
