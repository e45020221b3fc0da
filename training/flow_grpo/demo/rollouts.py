"""Running the agent on questions: held-out evaluation and training rollouts, through the library.

Every arm runs the same `AgentFlow` (task.build_demo_agent) through `training.flow_grpo.collect_rollouts`:
all of a batch's trajectories at once in a fresh in-memory runtime without a journal (so every planner
call reaches the policy being trained), the planner's calls recorded and decoded together by
`InProcessPolicy`, each trajectory sampling from its own seed, so a run does not depend on timing.
What is the demo's own: its questions as an eval `Task`, and the planner's short system prompt
(the same one the demonstrator's traces were taken with).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from agents import ListRecorder, PlannerFlow
from agents.eval import Example, Task
from agents.eval.kbqa import KBQuestion
from aiflows.flow import Flow
from aiflows.llm import Backend
from training.flow_grpo.rollouts import collect_rollouts
from training.flow_grpo.rows import Trajectory

from .task import PLANNER_PROMPT, build_demo_agent, reward

__all__ = ["SYSTEM", "Rollout", "make_planner", "rollout", "success"]

SYSTEM = "Plan the next step."
MAX_NEW_TOKENS = 16


def make_planner(backend: Backend, *, temperature: float, recorder: ListRecorder | None = None) -> PlannerFlow:
    """A planner flow as the trained one is (the demo's prompts, answers of at most 16 tokens), for other backends."""
    return PlannerFlow(
        name="planner",
        backend=backend,
        recorder=recorder,
        prompts={"next_step": PLANNER_PROMPT},
        config={
            "model": "demo-planner",
            "temperature": temperature,
            "max_tokens": MAX_NEW_TOKENS,
            "system_prompt": SYSTEM,
        },
    )


class Rollout:
    """One trajectory of `question`: the library's `Trajectory` (rows, reward, turns) with the question."""

    def __init__(self, question: KBQuestion, trajectory: Trajectory) -> None:
        self.question = question
        self.trajectory = trajectory
        self.rollout_id = trajectory.rollout_id
        self.reward = trajectory.reward
        self.turns = trajectory.turns
        self.invalid = trajectory.invalid_actions
        self.failed = trajectory.failed  # a failed run (reward 0) is kept and counted, never lost
        self.calls = trajectory.rows


def _task(questions: list[KBQuestion]) -> Task:
    examples = [Example(id=q.id, query=q.question, answer=q.answer, meta={"kind": q.kind}) for q in questions]
    return Task(name="kbqa-demo", examples=examples, scorer=lambda answer, ex: reward(answer, _as_question(ex)))


def _as_question(example: Example) -> KBQuestion:
    return KBQuestion(
        id=example.id,
        question=example.query,
        answer=example.answer,
        kind=str(example.meta.get("kind", "")),
        hops=0,
        split="train",
        entities=[],
    )


def rollout(
    backend: Any,
    corpus: Path,
    questions: list[KBQuestion],
    *,
    temperature: float,
    group: int = 1,
    tag: str = "r",
    seed: int = 0,
) -> list[Rollout]:
    """`group` trajectories per question through the agent (`collect_rollouts`), question by question.

    Trajectory g of a question samples from a seed drawn from (`seed`, `tag`, the question's id) and g.
    """

    def factory(planner: PlannerFlow) -> Flow:
        planner.system = SYSTEM  # the demo's short system prompt, as the demonstrator's traces have it
        return build_demo_agent(planner, corpus)

    seeds = [random.Random(f"{seed}:{tag}:{q.id}").randrange(1 << 30) for q in questions]
    task = _task(questions)
    done = collect_rollouts(
        factory,
        backend,
        task,
        task.examples,
        group=group,
        temperature=temperature,
        max_new_tokens=MAX_NEW_TOKENS,
        tag=tag,
        seeds=seeds,
    )
    return [Rollout(questions[i // group], t) for i, t in enumerate(done)]


def success(backend: Any, corpus: Path, questions: list[KBQuestion], *, temperature: float) -> float:
    """The fraction of `questions` answered exactly (one trajectory each)."""
    done = rollout(backend, corpus, questions, temperature=temperature)
    return sum(r.reward for r in done) / max(1, len(done))
