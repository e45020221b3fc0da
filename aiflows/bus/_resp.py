"""A lean Redis connection for the hot path: one socket, pipelined commands, hiredis's parser.

Every request crosses Redis several times (the request, the worker's read, the answer, the
caller's read), so the client's own cost per command is most of the transport's latency.
redis-py's asyncio client spends ~110 us of CPU per command here (a pool checkout, per-read
timeouts, instrumentation); writing RESP straight to an `asyncio.Protocol` and parsing replies
with hiredis (the C parser redis-py itself uses) costs ~40 us. Commands from many tasks share
the socket: each writes its command at once and gets its reply in order (Redis answers a
connection's commands in the order they came).

Errors keep redis-py's exception classes, so `retrying` and the callers treat both clients
alike. A lost connection fails the commands waiting on it with `ConnectionError`; the next
command connects again. A blocking command (XREAD BLOCK) holds its socket until it returns:
give each blocking reader its own `RespClient`.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["RespClient", "fields_of"]


def _error(reply: Exception) -> Exception:
    """The redis-py exception for an error reply, so callers catch one family whatever the client."""
    import redis.exceptions as rex

    text = str(reply)
    code = text.split(" ", 1)[0]
    kind = {
        "NOSCRIPT": rex.NoScriptError,
        "NOAUTH": rex.AuthenticationError,
        "WRONGPASS": rex.AuthenticationError,
        "NOPERM": rex.NoPermissionError,
        "LOADING": rex.BusyLoadingError,
        # A script or module command holds the server, or it has no primary: wait and write again.
        "BUSY": rex.BusyLoadingError,
        "MASTERDOWN": rex.BusyLoadingError,
        "TRYAGAIN": rex.BusyLoadingError,
        "READONLY": rex.ReadOnlyError,
    }.get(code, rex.ResponseError)
    return kind(text)


class _Batch:
    """The waiter of a pipeline: one future for all its replies (a future per reply costs more)."""

    __slots__ = ("future", "left", "replies")

    def __init__(self, future: asyncio.Future[list[Any]], count: int) -> None:
        self.future = future
        self.left = count
        self.replies: list[Any] = []


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        import hiredis

        self.reader = hiredis.Reader()
        self.waiters: collections.deque[asyncio.Future[Any] | _Batch] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.lost: Exception | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.on_message: Callable[[bytes], None] | None = None  # set once the connection subscribed

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        waiters = self.waiters
        while (reply := self.reader.gets()) is not False:
            if self.on_message is not None and type(reply) is list and reply[0] == b"message":
                self.on_message(reply[2])  # a message on the subscribed channel, not a reply
                continue
            waiter = waiters[0]
            future: asyncio.Future[Any]
            if type(waiter) is _Batch:
                waiter.replies.append(reply)
                waiter.left -= 1
                if waiter.left:
                    continue
                future, reply = waiter.future, waiter.replies
            else:
                future = waiter  # type: ignore[assignment]  # `type(...) is` (faster than isinstance) does not narrow
            waiters.popleft()
            if not future.done():  # a waiter cancelled by its caller still consumes its reply
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        import redis.exceptions as rex

        self.lost = rex.ConnectionError(f"connection to Redis lost: {exc or 'closed by the server'}")
        if not self.closed.done():
            self.closed.set_result(None)
        while self.waiters:
            waiter = self.waiters.popleft()
            future = waiter.future if isinstance(waiter, _Batch) else waiter
            if not future.done():
                future.set_exception(self.lost)


class RespClient:
    """One connection to the Redis of `url`, opened on first use and again after a loss.

    Args:
        url: `redis://[user:password@]host:port/db`, `rediss://...` or `unix:///path?db=N`.
        ssl_context: for `rediss://` URLs.
        connect_timeout: seconds to wait for a connection (and its AUTH/SELECT).
    """

    def __init__(self, url: str, *, ssl_context: ssl.SSLContext | None = None, connect_timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        self._scheme = parts.scheme
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 6379
        self._path = unquote(parts.path)
        db = parse_qs(parts.query).get("db", [""])[0] if parts.scheme == "unix" else parts.path.lstrip("/")
        self._db = int(db or 0)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._ssl = ssl_context if parts.scheme == "rediss" else None
        if parts.scheme == "rediss" and self._ssl is None:
            self._ssl = ssl.create_default_context()
        self._timeout = connect_timeout
        self._proto: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def _connection(self) -> _Protocol:
        proto = self._proto
        if proto is not None and proto.lost is None:
            return proto
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._proto is not None and self._proto.lost is None:
                return self._proto
            self._proto = await self._open()
            return self._proto

    async def _open(self) -> _Protocol:
        import redis.exceptions as rex

        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                if self._scheme == "unix":
                    _transport, proto = await loop.create_unix_connection(_Protocol, self._path)
                else:
                    _transport, proto = await loop.create_connection(
                        _Protocol,
                        self._host,
                        self._port,
                        ssl=self._ssl,
                        server_hostname=self._host if self._ssl is not None else None,
                    )
                setup: list[tuple[Any, ...]] = []
                if self._password is not None:
                    setup.append(
                        ("AUTH", self._username, self._password) if self._username else ("AUTH", self._password)
                    )
                if self._db:
                    setup.append(("SELECT", self._db))
                for reply in await self._send(proto, setup):
                    if isinstance(reply, Exception):
                        proto.transport.close()  # type: ignore[union-attr]
                        raise _error(reply)
        except (OSError, TimeoutError) as exc:
            raise rex.ConnectionError(f"cannot connect to Redis: {exc or 'timed out'}") from None
        return proto

    @staticmethod
    async def _send(proto: _Protocol, commands: list[tuple[Any, ...]]) -> list[Any]:
        import hiredis

        if not commands:
            return []
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        proto.waiters.append(_Batch(future, len(commands)))
        assert proto.transport is not None
        proto.transport.write(b"".join([hiredis.pack_command(c) for c in commands]))
        return await future

    async def execute_command(self, *args: Any) -> Any:
        """Send one command and return its reply; an error reply raises redis-py's exception for it."""
        import hiredis

        proto = await self._connection()
        future = asyncio.get_running_loop().create_future()
        proto.waiters.append(future)
        proto.transport.write(hiredis.pack_command(args))  # type: ignore[union-attr]
        reply = await future
        if isinstance(reply, hiredis.ReplyError):
            raise _error(reply)
        return reply

    async def execute_many(self, commands: list[tuple[Any, ...]], *, raise_errors: bool = True) -> list[Any]:
        """Send several commands in one write. An error reply raises (the first, once all have
        answered), or with `raise_errors=False` takes its reply's place as an exception object."""
        import hiredis

        replies = await self._send(await self._connection(), commands)
        for i, reply in enumerate(replies):
            if isinstance(reply, hiredis.ReplyError):
                if raise_errors:
                    raise _error(reply)
                replies[i] = _error(reply)
        return replies

    async def subscribe(self, channel: str, on_message: Callable[[bytes], None]) -> asyncio.Future[None]:
        """Give this client's connection over to `channel`: `on_message` is called with each message,
        right where it is read (no task hop). Returns a future that completes when the connection
        is lost; subscribe again then (messages sent meanwhile are gone: keep a durable copy)."""
        proto = await self._connection()
        proto.on_message = on_message  # before the confirmation: a message may come right behind it
        await self._send(proto, [("SUBSCRIBE", channel)])
        return proto.closed

    def disconnect(self) -> None:
        """Drop the connection: a command blocked on it fails, and the next one connects again."""
        proto, self._proto = self._proto, None
        if proto is not None and proto.transport is not None:
            proto.transport.close()

    async def aclose(self) -> None:
        self.disconnect()
        await asyncio.sleep(0)  # let the transport finish closing


def fields_of(flat: list[bytes] | None) -> dict[bytes, bytes]:
    """A stream entry's fields, which RESP sends as a flat [name, value, ...] list."""
    if not flat:
        return {}
    it = iter(flat)
    return dict(zip(it, it, strict=False))  # one iterator twice: names and values in turn
