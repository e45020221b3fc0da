"""Token usage and cost, per call and per run.

A chat flow emits one `llm.usage` event per model call and puts the sum for its own handling in
its output's `usage`. A `UsageMeter` given as `on_event=` sums the events of every chat flow in a
run, however deep in the composition:

    meter = UsageMeter()
    await pipeline.run({"question": "..."}, on_event=meter)
    meter.total().cost_usd
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from .types import Usage

__all__ = ["USAGE_EVENT", "UsageMeter", "usage_event"]

USAGE_EVENT = "llm.usage"


def usage_event(*, flow: str, model: str, usage: Usage, cached: bool, attempt: int) -> dict[str, Any]:
    """The data of an `llm.usage` event (no `type` key: the envelope puts the event kind there)."""
    return {
        "flow": flow,
        "model": model,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "cost_usd": usage.cost_usd,
        "cached": cached,
        "attempt": attempt,
    }


class UsageMeter:
    """An event listener that sums `llm.usage` events per run; passes every event on to `then`."""

    def __init__(self, then: Callable[[Any], None] | None = None) -> None:
        self._then = then
        self._runs: dict[str, Usage] = defaultdict(Usage)
        self._by_model: dict[str, Usage] = defaultdict(Usage)

    def __call__(self, event: Any) -> None:
        data = getattr(event, "data", None) or {}
        if data.get("type") == USAGE_EVENT:
            cached = bool(data.get("cached"))
            one = Usage(
                prompt_tokens=int(data.get("prompt_tokens", 0)),
                completion_tokens=int(data.get("completion_tokens", 0)),
                total_tokens=int(data.get("total_tokens", 0)),
                cost_usd=float(data.get("cost_usd", 0.0)),
                calls=1,
                cached_calls=1 if cached else 0,
            )
            run_id = str(getattr(event, "run_id", ""))
            self._runs[run_id] = self._runs[run_id] + one
            model = str(data.get("model", ""))
            self._by_model[model] = self._by_model[model] + one
        if self._then is not None:
            self._then(event)

    def total(self, run_id: str | None = None) -> Usage:
        """The sum for one run, or for every run seen."""
        if run_id is not None:
            return self._runs.get(run_id, Usage())
        out = Usage()
        for usage in self._runs.values():
            out = out + usage
        return out

    def by_model(self) -> dict[str, Usage]:
        return dict(self._by_model)
