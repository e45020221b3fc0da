"""Training rows: one per planner turn, grouped by query, with the trajectory's reward attached.

A row carries the ids that keep groups honest (query id = the group; query, rollout and turn make
each row unique, so a retried trajectory never counts twice) and what the update needs: prompt and
response token ids and the response's log-probabilities under the policy that sampled it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["Row", "Trajectory"]


class Row(BaseModel):
    """One planner turn of one trajectory."""

    query_id: str
    rollout_id: str
    turn: int
    prompt_ids: list[int]
    response_ids: list[int]
    old_logprobs: list[float]
    reward: float = 0.0
    advantage: float = 0.0
    truncated: bool = False  # the prompt was cut to fit the policy: dropped after advantages

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.query_id, self.rollout_id, self.turn)


class Trajectory(BaseModel):
    """One rollout of one query through the agent: its planner rows and its outcome."""

    query_id: str
    rollout_id: str
    reward: float
    rows: list[Row] = Field(default_factory=list)
    turns: int = 0
    invalid_actions: int = 0
    failed: str = ""  # why the reward could not be computed (the trajectory then gets reward 0)
