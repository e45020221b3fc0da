"""Where questions wait for their answers: the `HumanStore` protocol and the in-memory store.

Besides the requests themselves a store keeps, per request, two times that drive resumption:
`wake_at`, when a resumer should look at it (the moment it was answered, or its deadline), and
`held_until`, while a flow is waiting for it in-process (short-wait mode) or is suspending, and
needs no resume. A resumer `claim`s a due request atomically, so of many resumers (workers) one
acts on it, and judges the hold itself; the claim is a lease, so if that resumer dies the request
comes due again and nothing is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ._models import HumanRequest

__all__ = ["HumanStore", "MemoryHumanStore", "close_payload"]

Closing = Literal["answered", "expired"]


def close_payload(
    request: HumanRequest, status: Closing, answer: dict[str, Any] | None, by: str | None, at: float
) -> HumanRequest:
    """The request as it is once closed (answered or expired)."""
    return request.model_copy(update={"status": status, "answer": answer, "answered_by": by, "answered_at": at})


class HumanStore(Protocol):
    """Durable questions and answers; every method is safe to call from several processes at once."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def create(self, request: HumanRequest) -> HumanRequest:
        """Record a new pending request; if one with that id exists, return it unchanged."""

    async def get(self, request_id: str) -> HumanRequest | None: ...

    async def pending(self, session: str | None = None) -> list[HumanRequest]:
        """Open requests (oldest first), of one session or all."""

    async def for_run(self, run_id: str) -> list[HumanRequest]:
        """Every request of a run, oldest first."""

    async def close_request(
        self, request_id: str, status: Closing, answer: dict[str, Any] | None, by: str | None, at: float
    ) -> tuple[bool, HumanRequest | None]:
        """Answer or expire a pending request. First wins: returns (won, the request as stored now)."""

    async def consume(self, request_id: str) -> None:
        """The flow has read the answer (or the expiry): nothing more to resume for it."""

    async def hold(self, request_id: str, until: float) -> None:
        """A flow waits for this request in-process until `until` (0 releases it)."""

    async def due(self, now: float, limit: int = 50) -> list[str]:
        """Ids of requests whose wake time has come."""

    async def claim(self, request_id: str, now: float, until: float) -> HumanRequest | None:
        """Atomically take a due request until `until` (its `held_until` says if a flow holds it); None if not due."""

    async def reschedule(self, request_id: str, at: float | None) -> None:
        """Set when the request is next due (None: never)."""


@dataclass(slots=True)
class _Slot:
    request: HumanRequest
    wake_at: float | None = None
    held_until: float = 0.0


class MemoryHumanStore:
    """Requests in a dict: for tests and runs that live in one process."""

    def __init__(self) -> None:
        self._slots: dict[str, _Slot] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def create(self, request: HumanRequest) -> HumanRequest:
        slot = self._slots.get(request.id)
        if slot is None:
            slot = self._slots[request.id] = _Slot(request.model_copy(deep=True), wake_at=request.deadline)
        return self._view(slot)

    def _view(self, slot: _Slot) -> HumanRequest:
        return slot.request.model_copy(update={"held_until": slot.held_until}, deep=True)

    async def get(self, request_id: str) -> HumanRequest | None:
        slot = self._slots.get(request_id)
        return self._view(slot) if slot else None

    async def pending(self, session: str | None = None) -> list[HumanRequest]:
        found = [
            self._view(s)
            for s in self._slots.values()
            if s.request.status == "pending" and (session is None or s.request.session == session)
        ]
        return sorted(found, key=lambda r: r.created_at)

    async def for_run(self, run_id: str) -> list[HumanRequest]:
        found = [self._view(s) for s in self._slots.values() if s.request.run_id == run_id]
        return sorted(found, key=lambda r: r.created_at)

    async def close_request(
        self, request_id: str, status: Closing, answer: dict[str, Any] | None, by: str | None, at: float
    ) -> tuple[bool, HumanRequest | None]:
        slot = self._slots.get(request_id)
        if slot is None:
            return False, None
        if slot.request.status != "pending":
            return False, self._view(slot)
        slot.request = close_payload(slot.request, status, answer, by, at)
        slot.wake_at = at
        return True, self._view(slot)

    async def consume(self, request_id: str) -> None:
        slot = self._slots.get(request_id)
        if slot is not None:
            slot.request = slot.request.model_copy(update={"consumed": True})
            slot.wake_at = None

    async def hold(self, request_id: str, until: float) -> None:
        slot = self._slots.get(request_id)
        if slot is not None:
            slot.held_until = until

    async def due(self, now: float, limit: int = 50) -> list[str]:
        found = [(s.wake_at, rid) for rid, s in self._slots.items() if s.wake_at is not None and s.wake_at <= now]
        return [rid for _, rid in sorted(found)[:limit]]

    async def claim(self, request_id: str, now: float, until: float) -> HumanRequest | None:
        slot = self._slots.get(request_id)
        if slot is None or slot.wake_at is None or slot.wake_at > now:
            return None
        slot.wake_at = until
        return self._view(slot)

    async def reschedule(self, request_id: str, at: float | None) -> None:
        slot = self._slots.get(request_id)
        if slot is not None:
            slot.wake_at = at
