"""The web page people answer from: `aiflows ui`, or `create_app(make_runtime, token=..., allowed_hosts=...)`.

Modules: `_app` (routes, websocket, answer API), `_guard` (token, Host, Origin and content-type
checks in front of every route), `_binding` (allowed Host names, the token, the URL to open),
`_views` (what each page shows), `_render` (autoescaped templates, pygments highlighting);
`templates/` and `static/` hold the page.
Needs the `ui` extra: starlette, uvicorn, websockets.
"""

from ._app import create_app
from ._binding import allowed_hosts, browse_url, is_loopback, is_wildcard, ui_token
from ._guard import Guard

__all__ = ["Guard", "allowed_hosts", "browse_url", "create_app", "is_loopback", "is_wildcard", "ui_token"]
