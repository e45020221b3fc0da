"""The gate in front of every route of the web page: Host, Origin, content type and the server's token.

    app = Guard(starlette_app, token=secrets.token_urlsafe(32), allowed_hosts=["127.0.0.1:8765"])

Why each check: any web page the user's browser visits can send requests to a server on loopback.
The token (as Jupyter's) proves the request comes from someone `aiflows ui` showed its URL to; the
Host check stops DNS rebinding (a foreign name resolving to 127.0.0.1 makes the browser treat our
server as the foreign site's origin); the Origin check stops cross-site and cross-port requests that
carry the cookie (cookies are shared by every port of a host); requiring `application/json` on
writes stops HTML forms and `text/plain` fetches, which browsers send without asking first.

The token is accepted from `Authorization: Bearer`, `?token=` or the cookie this gate sets. A page
visited with `?token=` gets an HttpOnly, SameSite=Strict cookie and a redirect to the same URL
without the token, so the token does not stay in the address bar or history. Static files are
guarded like everything else: the cookie is there for every page that loads them, and one rule for
every path leaves nothing to forget.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["Guard"]

Scope = dict[str, Any]
Receive = Any
Send = Any

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_HARDENING = [
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


class Refusal(Exception):
    """Why a request was turned away: an HTTP status, a short kind and a message for the person."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


class Guard:
    """ASGI middleware: lets a request through only from the server's own origin, with its token.

    Args:
        app: the ASGI app it guards (every http and websocket route of it).
        token: the server's secret; compared in constant time.
        allowed_hosts: the `Host` header values this server answers to, as `name:port`
            (e.g. `127.0.0.1:8765`, `localhost:8765`, `[::1]:8765`).
    """

    def __init__(self, app: Any, *, token: str, allowed_hosts: Iterable[str]) -> None:
        if not token:
            raise ValueError("Guard needs a non-empty token")
        self.app = app
        self.token = token.encode()
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts)
        if not self.allowed_hosts:
            raise ValueError("Guard needs at least one allowed host (name:port)")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan: nothing to guard
            return
        request = _Request(scope)
        try:
            source = self._check(request)
        except Refusal as refusal:
            if kind == "http":
                await _refuse_http(send, refusal)
            else:
                await _refuse_websocket(scope, receive, send, refusal)
            return
        if kind == "http" and source == "query" and request.method == "GET" and request.is_page:
            await _redirect_with_cookie(send, request, self.token.decode())
            return
        await self.app(scope, receive, _hardened(send) if kind == "http" else send)

    def _check(self, request: _Request) -> str:
        """Refuse what must not pass; return where the token came from (header, query or cookie)."""
        host = request.header("host")
        if host is None or host.lower() not in self.allowed_hosts:
            allowed = ", ".join(sorted(self.allowed_hosts))
            raise Refusal(421, "BadHost", f"Host {host!r} is not a name this server answers to (allowed: {allowed})")
        source = self._token_source(request)
        origin = request.header("origin")
        if origin is not None and origin.lower() != request.own_origin:
            raise Refusal(
                403,
                "BadOrigin",
                f"requests from origin {origin!r} are refused: only {request.own_origin} may call this server",
            )
        writes = request.is_websocket or request.method not in _SAFE_METHODS
        if writes and origin is None and source == "cookie":
            # A cookie travels with requests other sites make; without an Origin to check, ask for the token itself.
            what = "websocket" if request.is_websocket else f"{request.method} request"
            raise Refusal(
                403,
                "MissingOrigin",
                f"a {what} without an Origin header must carry the token in an Authorization: Bearer header",
            )
        if not request.is_websocket and request.method not in _SAFE_METHODS:
            media = (request.header("content-type") or "").split(";")[0].strip().lower()
            if media != "application/json":
                raise Refusal(
                    415,
                    "UnsupportedMediaType",
                    f"send JSON with Content-Type: application/json (got {media or 'none'!r})",
                )
        return source

    def _token_source(self, request: _Request) -> str:
        """Check the first token presented (header, then query, then cookie); refuse if none is right."""
        for source, presented in request.tokens():
            if secrets.compare_digest(presented.encode(), self.token):
                return source
            raise Refusal(
                403, "BadToken", f"the token in the {source} is not this server's: open the URL `aiflows ui` printed"
            )
        raise Refusal(
            403,
            "MissingToken",
            "this server needs its token: open the URL `aiflows ui` printed (…/?token=…) "
            "or send an Authorization: Bearer <token> header",
        )


class _Request:
    """The parts of an ASGI scope the guard reads."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.is_websocket = scope["type"] == "websocket"
        self.method = "GET" if self.is_websocket else scope["method"]
        self.path: str = scope["path"]
        self.query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        self.headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            self.headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def scheme(self) -> str:
        scheme = str(self.scope.get("scheme", "http"))
        return {"ws": "http", "wss": "https"}.get(scheme, scheme)

    @property
    def own_origin(self) -> str:
        return f"{self.scheme}://{(self.header('host') or '').lower()}"

    @property
    def is_page(self) -> bool:
        """A page people open in a browser (not the JSON API, static files or the websocket)."""
        return not self.path.startswith(("/api/", "/static/", "/ws"))

    @property
    def cookie_name(self) -> str:
        # Cookies are shared by every port of a host: one name per server port keeps two servers apart.
        server = self.scope.get("server") or ("", 0)
        return f"aiflows_ui_{server[1]}"

    def tokens(self) -> list[tuple[str, str]]:
        """The tokens presented, most explicit first."""
        found = []
        auth = self.header("authorization")
        if auth is not None:
            scheme, _, value = auth.partition(" ")
            found.append(("header", value.strip() if scheme.lower() == "bearer" else ""))
        for key, value in self.query:
            if key == "token":
                found.append(("query", value))
                break
        # Split by hand: SimpleCookie drops every cookie after one it cannot parse (other apps on this host set theirs).
        for pair in (self.header("cookie") or "").split(";"):
            name, _, value = pair.strip().partition("=")
            if name == self.cookie_name:
                found.append(("cookie", value.strip().strip('"')))
                break
        return found


def _hardened(send: Send) -> Send:
    """Add headers that keep the page out of frames and its URL out of Referer headers."""

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *_HARDENING]}
        await send(message)

    return wrapped


def _json_body(refusal: Refusal) -> bytes:
    return json.dumps({"ok": False, "error": refusal.kind, "message": refusal.message}).encode()


async def _refuse_http(send: Send, refusal: Refusal) -> None:
    body = _json_body(refusal)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *_HARDENING]
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _refuse_websocket(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    """Refuse at the handshake: an HTTP error with the JSON reason where the server can, else close 1008."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if "websocket.http.response" in scope.get("extensions", {}):
        body = _json_body(refusal)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "websocket.http.response.start", "status": refusal.status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.close", "code": 1008, "reason": refusal.message[:120]})


async def _redirect_with_cookie(send: Send, request: _Request, token: str) -> None:
    """Keep the token in an HttpOnly cookie and send the browser to the same URL without it."""
    rest = [(k, v) for k, v in request.query if k != "token"]
    path = request.scope.get("raw_path") or request.path.encode()
    # One leading slash only: `//other.example/` would send the browser to another site.
    path = b"/" + path.lstrip(b"/")
    target = path + (f"?{urlencode(rest)}".encode() if rest else b"")
    cookie = f"{request.cookie_name}={token}; Path=/; HttpOnly; SameSite=Strict"
    if request.scheme == "https":
        cookie += "; Secure"
    headers = [
        (b"location", target),
        (b"set-cookie", cookie.encode()),
        (b"cache-control", b"no-store"),
        (b"content-length", b"0"),
        *_HARDENING,
    ]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
