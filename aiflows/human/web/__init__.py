"""The web page people answer from: `aiflows ui`, or `create_app(make_runtime)` for any ASGI server.

Modules: `_app` (routes, websocket, answer API), `_views` (what each page shows), `_render`
(autoescaped templates, pygments highlighting); `templates/` and `static/` hold the page.
Needs the `ui` extra: starlette, uvicorn, websockets.
"""

from ._app import create_app

__all__ = ["create_app"]
