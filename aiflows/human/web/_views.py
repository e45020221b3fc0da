"""What each page shows, read from the run store and the human store.

Pages and their live parts come from the same templates, so the first paint and every update
look the same. A live part is keyed by the element id it replaces on the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiflows.runtime.trace import trace_messages

from .._desk import HumanDesk
from .._errors import UnknownRequest
from .._models import HumanRequest
from ._render import Renderer

__all__ = ["Views"]

RUN_WINDOW = 500  # how many recent runs the session list looks at


@dataclass(slots=True)
class SessionRow:
    name: str
    runs: int = 0
    pending: int = 0
    last: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)


class Views:
    def __init__(self, desk: HumanDesk, renderer: Renderer) -> None:
        self.desk = desk
        self.renderer = renderer

    @property
    def store(self) -> Any:
        return self.desk.runtime.store

    # -- data -------------------------------------------------------------------------------
    async def _sessions(self) -> list[SessionRow]:
        rows: dict[str, SessionRow] = {}
        for record in await self.store.list_runs(RUN_WINDOW):
            row = rows.setdefault(record.session, SessionRow(record.session))
            row.runs += 1
            row.last = max(row.last, record.created_at)
            row.statuses[record.status] = row.statuses.get(record.status, 0) + 1
        for request in await self.desk.pending():
            rows.setdefault(request.session, SessionRow(request.session)).pending += 1
        return sorted(rows.values(), key=lambda r: (-r.pending, -r.last))

    async def _session_data(self, session: str) -> tuple[list[Any], list[HumanRequest]]:
        runs = [r for r in await self.store.list_runs(RUN_WINDOW) if r.session == session]
        requests = {r.id: r for r in await self.desk.pending(session)}
        for record in runs[:50]:
            for request in await self.desk.store.for_run(record.run_id):
                requests.setdefault(request.id, request)
        if not runs and not requests:
            known = ", ".join(s.name for s in (await self._sessions())[:20]) or "none"
            raise UnknownRequest(f"no session '{session}' is known here (sessions: {known})")
        return runs, _ordered(list(requests.values()))

    async def _run_data(self, run_id: str) -> tuple[Any, list[HumanRequest], list[dict[str, Any]]]:
        record = await self.store.get_run(run_id)
        if record is None:
            raise UnknownRequest(f"no run '{run_id}' is recorded here")
        requests = _ordered(await self.desk.store.for_run(run_id))
        spans, events = await self.store.spans(run_id), await self.store.events(run_id)
        return record, requests, list(trace_messages(spans, events))

    # -- pages ------------------------------------------------------------------------------
    async def index_page(self) -> str:
        return self.renderer.page("index.html", title="sessions", live="index", sessions=await self._sessions())

    async def session_page(self, session: str) -> str:
        runs, requests = await self._session_data(session)
        return self.renderer.page(
            "session.html",
            title=f"session {session}",
            live=f"session:{session}",
            session=session,
            runs=runs,
            requests=requests,
        )

    async def run_page(self, run_id: str) -> str:
        record, requests, rows = await self._run_data(run_id)
        return self.renderer.page(
            "run.html", title=f"run {run_id}", live=f"run:{run_id}", record=record, requests=requests, rows=rows
        )

    async def live_parts(self, scope: str) -> dict[str, str]:
        """The live parts of the page `scope` names ("index", "session:NAME" or "run:ID")."""
        fragment = self.renderer.fragment
        kind, _, name = scope.partition(":")
        if kind == "session":
            runs, requests = await self._session_data(name)
            return {
                "live-requests": fragment("_requests.html", requests=requests),
                "live-runs": fragment("_runs.html", runs=runs),
            }
        if kind == "run":
            record, requests, rows = await self._run_data(name)
            return {
                "live-status": fragment("_status.html", record=record),
                "live-requests": fragment("_requests.html", requests=requests),
                "live-trace": fragment("_trace.html", rows=rows),
            }
        return {"live-sessions": fragment("_sessions.html", sessions=await self._sessions())}


def _ordered(requests: list[HumanRequest]) -> list[HumanRequest]:
    """Waiting questions first (oldest first), then the closed ones, newest first."""
    waiting = sorted((r for r in requests if r.status == "pending"), key=lambda r: r.created_at)
    closed = sorted((r for r in requests if r.status != "pending"), key=lambda r: -(r.answered_at or r.created_at))
    return waiting + closed
