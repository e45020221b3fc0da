"""`HumanDesk`: where answers come in, and what wakes the runs that waited for them.

Every channel (a script, the terminal, the web page) answers through a desk, bound to a runtime:

    desk = HumanDesk(runtime)
    for request in await desk.pending(session="s1"):
        await desk.answer(request.id, "use a heap", by="ada")   # first answer wins
    await desk.resume_due()                                       # resume the runs that were waiting

A desk is also the resumer: `await desk.serve()` keeps claiming due requests (answered ones, and
pending ones whose deadline passed) and resumes their runs. Claims are leases in the store, so
any number of desks (workers) can serve side by side, and one that dies loses nothing: its
claims come due again for the others.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from ._companion import human_store_for
from ._errors import AlreadyAnswered, UnknownRequest
from ._flow import SUSPEND_GRACE_S
from ._models import HumanRequest, normalize_answer
from ._store import HumanStore

if TYPE_CHECKING:
    from aiflows.records import RunRecord, RunResult
    from aiflows.runtime import Runtime

__all__ = ["HumanDesk"]

log = logging.getLogger("aiflows.human")


class HumanDesk:
    """Answer questions and resume the runs that asked them.

    Args:
        runtime: an open runtime on the store (and bus) the flows run with.
        store: the human store; by default the one that goes with `runtime.store`.
        lease_s: how long a claimed request is ours before another resumer may take it.
    """

    def __init__(self, runtime: Runtime, *, store: HumanStore | None = None, lease_s: float = 60.0) -> None:
        self.runtime = runtime
        self.store: HumanStore = store if store is not None else human_store_for(runtime.store)
        self.lease_s = lease_s
        self._resuming: set[str] = set()

    # -- reading ----------------------------------------------------------------------------
    async def pending(self, session: str | None = None) -> list[HumanRequest]:
        """Open questions, oldest first, of one session or of all."""
        await self.store.open()
        return await self.store.pending(session)

    async def get(self, request_id: str) -> HumanRequest:
        """The request with this id. Raises `UnknownRequest` when there is none."""
        await self.store.open()
        request = await self.store.get(request_id)
        if request is None:
            raise UnknownRequest(f"no request '{request_id}' is waiting or was ever asked here")
        return request

    async def sessions(self, limit: int = 500) -> list[str]:
        """Sessions with runs (the latest `limit` runs) or waiting questions, sorted."""
        found = {record.session for record in await self.runtime.store.list_runs(limit)}
        found.update(request.session for request in await self.pending())
        return sorted(found)

    async def check_session(self, session: str) -> None:
        """Raise `UnknownRequest` naming the known sessions when `session` has no runs or questions."""
        known = await self.sessions()
        if session not in known:
            listed = ", ".join(known[:20]) or "none"
            raise UnknownRequest(f"no session '{session}' is known here (sessions: {listed})")

    # -- answering ---------------------------------------------------------------------------
    async def answer(self, request_id: str, value: Any, *, by: str = "api") -> HumanRequest:
        """Record `value` as the answer; the first answer wins.

        Returns the answered request. The run is resumed by a resumer (`resume_due`, `serve`).

        Raises:
            UnknownRequest: no such request.
            InvalidAnswer: the value does not fit the request's kind, choices or proposed value.
            AlreadyAnswered: someone answered first, or the deadline passed; says who and when.
        """
        request = await self.get(request_id)
        if request.status != "pending":
            raise AlreadyAnswered(request_id, request.status, request.answered_by, request.answered_at)
        payload = normalize_answer(request, value)
        now = time.time()
        if request.deadline is not None and now >= request.deadline:
            await self.store.close_request(request_id, "expired", None, None, now)
            raise AlreadyAnswered(request_id, "expired", None, request.deadline)
        won, current = await self.store.close_request(request_id, "answered", payload, by or "anonymous", now)
        if not won:
            assert current is not None
            raise AlreadyAnswered(request_id, current.status, current.answered_by, current.answered_at)
        assert current is not None
        return current

    async def answer_and_resume(self, request_id: str, value: Any, *, by: str = "api") -> RunResult | None:
        """Answer, then resume the run at once in this process (for scripts and tests)."""
        request = await self.answer(request_id, value, by=by)
        return await self.resume_request(request.id)

    # -- resuming ----------------------------------------------------------------------------
    async def resume_request(self, request_id: str) -> RunResult | None:
        """Claim one request and resume its run; None when it is not due, held, or taken by another."""
        now = time.time()
        request = await self.store.claim(request_id, now, now + self.lease_s)
        if request is None:
            return None
        return await self._resume(request)

    async def resume_due(self) -> list[RunResult]:
        """One pass of the resumer: resume the run of every due request this desk can claim."""
        await self.store.open()
        results = []
        for request_id in await self.store.due(time.time()):
            result = await self.resume_request(request_id)
            if result is not None:
                results.append(result)
        return results

    async def serve(self, *, poll_s: float = 0.25) -> None:
        """Resume runs as their questions come due, until cancelled.

        While the store cannot be reached (Redis restarting, the network away) it says so in one
        line, polls again with backoff, and says in one more line when the store is back.
        """
        away_since: float | None = None
        delay = poll_s
        async with asyncio.TaskGroup() as group:
            while True:
                try:
                    await self.store.open()
                    for request_id in await self.store.due(time.time()):
                        now = time.time()
                        request = await self.store.claim(request_id, now, now + self.lease_s)
                        if request is not None:
                            group.create_task(self._resume_logged(request), name=f"resume:{request.run_id}")
                except Exception as exc:  # noqa: BLE001 - any failure to reach the store: keep polling
                    if away_since is None:
                        away_since = time.monotonic()
                        log.warning("human-answer resumer: %s is unreachable (%s); retrying", self.store, exc)
                    delay = min(delay * 2, 5.0)
                else:
                    if away_since is not None:
                        log.warning(
                            "human-answer resumer: %s is reachable again after %.1f s",
                            self.store,
                            time.monotonic() - away_since,
                        )
                        away_since = None
                    delay = poll_s
                await asyncio.sleep(delay)

    async def _resume_logged(self, request: HumanRequest) -> None:
        try:
            await self._resume(request)
        except Exception:
            log.exception("resuming run %s for request %s failed", request.run_id, request.id)

    async def _resume(self, request: HumanRequest) -> RunResult | None:
        store, runtime = self.store, self.runtime
        if request.consumed:
            await store.reschedule(request.id, None)
            return None
        if request.status == "pending" and (request.deadline is None or request.deadline > time.time()):
            await store.reschedule(request.id, request.deadline)
            return None
        record = await runtime.store.get_run(request.run_id)
        if record is None or record.status in ("done", "failed"):
            await store.reschedule(request.id, None)  # nothing waits for this answer any more
            return None
        now = time.time()
        if request.held_until > now and not _suspended_since(record, request.held_until - SUSPEND_GRACE_S):
            await store.reschedule(request.id, request.held_until)  # a live flow waits for it, or is suspending
            return None
        if request.run_id in self._resuming:  # this desk is replaying the run already: look again soon
            await store.reschedule(request.id, now + 0.5)
            return None
        self._resuming.add(request.run_id)  # before any await, so two tasks of this desk never both replay it
        try:
            if not await self._ensure_hosted(record):
                log.warning(
                    "run %s cannot be rebuilt here (started from code): leaving it to its process", record.run_id
                )
                return None
            result = await runtime.resume(request.run_id)
        finally:
            self._resuming.discard(request.run_id)
        after = await store.get(request.id)
        if after is not None and not after.consumed:
            await store.reschedule(request.id, None)  # the replay no longer reaches this question
        return result

    async def _ensure_hosted(self, record: RunRecord) -> bool:
        """Host the run's flow here if the bus is in-process and nobody serves its address yet."""
        runtime = self.runtime
        serves = getattr(runtime.bus, "serves", None)
        if serves is None or serves(record.address):
            return True  # a shared bus (Redis): workers serve the address
        if not record.spec:
            return False
        # The one place that rebuilds a flow from a run record (it belongs below the CLI; see the notes).
        from aiflows.loader import build_from_spec

        await runtime.host(build_from_spec(record.spec), record.address)
        return True


def _suspended_since(record: RunRecord, moment: float) -> bool:
    """Whether the run was recorded as suspended at or after `moment` (so a hold from then is stale)."""
    return record.status == "suspended" and record.finished_at is not None and record.finished_at >= moment
