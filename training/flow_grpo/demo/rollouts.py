"""Running the agent on questions: the demonstrator's traces, held-out evaluation, training rollouts.

Every arm runs the same `AgentFlow` (task.build_demo_agent); only the planner's backend changes.
Training rollouts attach a `ListRecorder` to the `PlannerFlow`, the seam a trainer collects rows through.
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

    def __init__(self, question: KBQuestion, output: dict[str, Any], calls: list[PlannerCall]) -> None:
        self.question = question
        self.output = output
        self.calls = calls
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
    jobs = [(q, g) for q in questions for g in range(group)]
    live = backend if isinstance(backend, LivePolicy) else None
    if live is not None:
        live.active = len(jobs)

    async def one(q: KBQuestion, g: int) -> Rollout:
        recorder = ListRecorder()
        agent = build_demo_agent(make_planner(backend, temperature=temperature, recorder=recorder), corpus)
        try:
            result = await agent.run({"query": q.question, "query_id": q.id, "rollout_id": f"{tag}-{q.id}-{g}"})
        finally:
            if live is not None:
                live.active -= 1
        return Rollout(q, result, [c for c in recorder.calls if c.phase == "next_step"])

    return list(await asyncio.gather(*(one(q, g) for q, g in jobs)))


def success(backend: Backend, corpus: Path, questions: list[KBQuestion], *, temperature: float) -> float:
    """The fraction of `questions` answered exactly (one trajectory each)."""
    done = rollout(backend, corpus, questions, temperature=temperature)
    return sum(r.reward for r in done) / max(1, len(done))
