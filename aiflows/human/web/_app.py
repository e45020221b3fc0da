"""The web page: sessions, runs with their live message trace, and forms to answer questions.

    app = create_app(lambda: Runtime(store=SqliteStore(path)), token=ui_token(None),
                     allowed_hosts=allowed_hosts("127.0.0.1", 8765))
    uvicorn.run(app, host="127.0.0.1", port=8765)

Pages are rendered on the server (autoescaped); a websocket per open page sends the parts that
changed (questions, runs, trace, status) every `refresh_s`. Answers are JSON posts to
`/api/requests/{id}`; the first one wins and a later one gets 409 naming who answered. With
`resume` on, the app's `HumanDesk` resumes runs as their questions are answered or time out.
Every route, the websocket included, sits behind `Guard` (token, Host, Origin, JSON writes).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .._desk import HumanDesk
from .._errors import AlreadyAnswered, InvalidAnswer, UnknownRequest
from ._guard import Guard
from ._render import Renderer
from ._views import Views

if TYPE_CHECKING:
    from aiflows.runtime import Runtime

__all__ = ["create_app"]

log = logging.getLogger("aiflows.human.web")

_STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class _Settings:
    """What `create_app` was given, kept on `app.state.settings` for the endpoints."""

    make_runtime: Callable[[], Runtime]
    resume: bool
    refresh_s: float
    renderer: Renderer


def create_app(
    make_runtime: Callable[[], Runtime],
    *,
    token: str,
    allowed_hosts: Iterable[str],
    resume: bool = True,
    refresh_s: float = 0.5,
) -> Guard:
    """The web app over the runtime `make_runtime()` builds (opened at start-up, closed at shutdown).

    There is no unguarded variant: any page the user's browser visits could otherwise answer
    their flows' questions and read them.

    Args:
        make_runtime: builds the runtime whose store (and bus) the flows use.
        token: the secret every request must carry (`?token=`, `Authorization: Bearer`, or the cookie).
        allowed_hosts: the Host header values (`name:port`) the server answers to; see `allowed_hosts()`.
        resume: resume runs from this process as their questions are answered or time out
            (leave it off when workers elsewhere run a resumer).
        refresh_s: how often an open page is brought up to date.
    """
    app = Starlette(routes=_routes(), lifespan=_lifespan)
    app.state.settings = _Settings(make_runtime, resume, refresh_s, Renderer())
    return Guard(app, token=token, allowed_hosts=allowed_hosts)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Open the runtime, put the page's `Views` on `app.state.views`, and run the resumer if asked."""
    settings: _Settings = app.state.settings
    async with settings.make_runtime() as runtime:
        desk = HumanDesk(runtime)
        await desk.store.open()
        app.state.views = Views(desk, settings.renderer)
        task = asyncio.create_task(desk.serve(), name="human-resumer") if settings.resume else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def _views(conn: HTTPConnection) -> Views:
    views: Views = conn.app.state.views
    return views


def _missing(conn: HTTPConnection, exc: UnknownRequest) -> Response:
    renderer: Renderer = conn.app.state.settings.renderer
    return HTMLResponse(renderer.page("missing.html", title="not found", live="", message=str(exc)), 404)


async def index(request: Request) -> Response:
    return HTMLResponse(await _views(request).index_page())


async def session_page(request: Request) -> Response:
    session = request.path_params["session"]
    try:
        return HTMLResponse(await _views(request).session_page(session))
    except UnknownRequest as exc:
        return _missing(request, exc)


async def run_page(request: Request) -> Response:
    run_id = request.path_params["run_id"]
    try:
        return HTMLResponse(await _views(request).run_page(run_id))
    except UnknownRequest as exc:
        return _missing(request, exc)


async def api_pending(request: Request) -> Response:
    session = request.query_params.get("session")
    pending = await _views(request).desk.pending(session)
    return JSONResponse([r.model_dump(mode="json") for r in pending])


async def api_answer(request: Request) -> Response:
    request_id = request.path_params["request_id"]
    try:
        body = json.loads(await request.body() or b"null")
    except json.JSONDecodeError as exc:
        return _error(400, "InvalidAnswer", f"the body is not JSON: {exc}")
    if not isinstance(body, dict) or "value" not in body:
        return _error(400, "InvalidAnswer", 'send a JSON object {"value": ..., "by": "your name"}')
    by = str(body.get("by") or "web")[:60]
    try:
        answered = await _views(request).desk.answer(request_id, body["value"], by=by)
    except UnknownRequest as exc:
        return _error(404, "UnknownRequest", str(exc))
    except InvalidAnswer as exc:
        return _error(400, "InvalidAnswer", exc.problem)
    except AlreadyAnswered as exc:
        return _error(409, "AlreadyAnswered", str(exc), answered_by=exc.answered_by, state=exc.status)
    return JSONResponse({"ok": True, "request": answered.model_dump(mode="json")})


async def live(socket: WebSocket) -> None:
    await socket.accept()
    pump = asyncio.create_task(_pump(socket, socket.query_params.get("page", "")), name="ui-pump")
    watch = asyncio.create_task(_until_closed(socket), name="ui-watch")
    try:
        await asyncio.wait({pump, watch}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pump, watch):
            task.cancel()
        await asyncio.gather(pump, watch, return_exceptions=True)


async def _pump(socket: WebSocket, scope: str) -> None:
    """Send the live parts of the page whenever they change."""
    views, settings = _views(socket), socket.app.state.settings
    refresh_s: float = settings.refresh_s
    sent: dict[str, str] = {}
    try:
        while True:
            parts = await views.live_parts(scope)
            changed = {k: v for k, v in parts.items() if sent.get(k) != v}
            if changed:
                await socket.send_json({"parts": changed})
                sent.update(changed)
            await asyncio.sleep(refresh_s)
    except UnknownRequest as exc:
        with contextlib.suppress(Exception):
            await socket.send_json({"error": str(exc)})
            await socket.close()
    except (WebSocketDisconnect, RuntimeError, OSError):
        return  # the browser went away while we sent: a closed tab is not an error


async def _until_closed(socket: WebSocket) -> None:
    """Return when the browser closes the socket (pages send nothing else)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await socket.receive())["type"] != "websocket.disconnect":
            pass


def _error(code: int, kind: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": kind, "message": message, **extra}, status_code=code)


def _routes() -> list[BaseRoute]:
    """Fresh per app: StaticFiles remembers whether it checked its folder."""
    return [
        Route("/", index),
        Route("/sessions/{session:path}", session_page),
        Route("/runs/{run_id}", run_page),
        Route("/api/pending", api_pending),
        Route("/api/requests/{request_id}", api_answer, methods=["POST"]),
        WebSocketRoute("/ws", live),
        Mount("/static", StaticFiles(directory=_STATIC), name="static"),
    ]
