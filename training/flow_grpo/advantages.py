"""Group-normalised advantages (Flow-GRPO): each trajectory's reward against its query's group.

Credit modes: `broadcast` gives the trajectory's advantage to every planner turn (the paper);
`last_turn` gives it to the final turn only (AgentFlow's ablation); `shuffled` permutes rewards
across the whole batch before grouping (a control that must not learn). Groups whose rewards are
all equal (including single-trajectory groups) carry no signal: counted and skipped. Rows whose
prompt was truncated are dropped after the advantages are computed, as AgentFlow does, so they
still count towards their group's statistics.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel

from .rows import Row, Trajectory

__all__ = ["AdvantageStats", "Credit", "compute_advantages"]

Credit = Literal["broadcast", "last_turn", "shuffled"]


class AdvantageStats(BaseModel):
    groups: int
    zero_variance_groups: int
    truncated_rows: int
    rows: int

    @property
    def zero_variance_fraction(self) -> float:
        return self.zero_variance_groups / max(1, self.groups)


def compute_advantages(
    trajectories: list[Trajectory],
    *,
    credit: Credit = "broadcast",
    rng: random.Random | None = None,
    eps: float = 1e-6,
) -> tuple[list[Row], AdvantageStats]:
    """Rows with `advantage` set, in trajectory order, and the counts the step log reports."""
    rewards = [t.reward for t in trajectories]
    if credit == "shuffled":
        (rng or random.Random(0)).shuffle(rewards)
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(trajectories):
        groups.setdefault(t.query_id, []).append(i)
    rows: list[Row] = []
    flat = truncated = 0
    for members in groups.values():
        values = [rewards[i] for i in members]
        mean = sum(values) / len(values)
        std = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        if len(values) < 2 or std < 1e-8:
            flat += 1
            continue
        for i in members:
            advantage = (rewards[i] - mean) / (std + eps)
            turns = [r for r in trajectories[i].rows if r.response_ids]
            for k, row in enumerate(turns):
                given = advantage if credit != "last_turn" or k == len(turns) - 1 else 0.0
                if row.truncated:
                    truncated += 1
                    continue
                rows.append(row.model_copy(update={"advantage": given, "reward": rewards[i]}))
    stats = AdvantageStats(groups=len(groups), zero_variance_groups=flat, truncated_rows=truncated, rows=len(rows))
    return rows, stats
