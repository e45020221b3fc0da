"""The trainable seam: each call of the planner's main model, as training needs to see it.

A planner flow with a recorder attached hands it one `PlannerCall` per model call: the prompt's
and the response's token ids, the response's per-token log-probabilities under the sampling model,
and the ids that group rows (query, rollout, turn). The agent flow itself is unchanged, so training
collects rows from the very flows a user runs.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, Field

__all__ = ["JsonlRecorder", "ListRecorder", "PlannerCall", "Recorder"]


class PlannerCall(BaseModel):
    """One planner model call. Token fields are empty when the backend does not expose tokens."""

    query_id: str
    rollout_id: str
    turn: int
    phase: str
    prompt: str  # the prompt as rendered (chat messages joined)
    response: str
    prompt_ids: list[int] = Field(default_factory=list)
    response_ids: list[int] = Field(default_factory=list)
    logprobs: list[float] = Field(default_factory=list)  # one per response token
    model: str = ""


@runtime_checkable
class Recorder(Protocol):
    """Anything that keeps planner calls (a list in memory, a JSON-lines file, a trainer's buffer)."""

    def record(self, call: PlannerCall) -> None: ...


class ListRecorder:
    """Keeps calls in memory, in the order they were made (thread-safe: models run in threads)."""

    def __init__(self) -> None:
        self.calls: list[PlannerCall] = []
        self._lock = threading.Lock()

    def record(self, call: PlannerCall) -> None:
        with self._lock:
            self.calls.append(call)


class JsonlRecorder:
    """Appends each call as one JSON line to `path`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, call: PlannerCall) -> None:
        line = json.dumps(call.model_dump(mode="json"), ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
