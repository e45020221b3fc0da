"""Connecting to Redis: URL checks, TLS options, key names, and retrying through outages.

Everything that touches the network goes through `retrying`, so a restarted redis-server
(or a dropped connection) costs a pause with backoff, never a lost request.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from ..exceptions import AiflowsError, ConfigError

__all__ = [
    "TRANSIENT",
    "Keys",
    "RedisBusError",
    "RedisTLS",
    "check_url",
    "connect",
    "connect_lean",
    "ping",
    "redact",
    "retrying",
    "stop_tasks",
]

log = logging.getLogger("aiflows.bus.redis")

T = TypeVar("T")


class RedisBusError(AiflowsError):
    """Redis cannot be used: unreachable, wrong credentials, or the bus was closed."""


class RedisTLS(BaseModel):
    """TLS options for `rediss://` URLs (paths to PEM files)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ca_certs: str | None = None  # the CA that signed the server's certificate
    certfile: str | None = None  # a client certificate, if the server asks for one
    keyfile: str | None = None
    cert_reqs: Literal["required", "optional", "none"] = "required"
    check_hostname: bool = False

    def ssl_context(self) -> Any:
        """The same options as an `ssl.SSLContext`, for the lean hot-path connections."""
        import ssl

        context = ssl.create_default_context(cafile=self.ca_certs)
        context.check_hostname = self.check_hostname
        context.verify_mode = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}[
            self.cert_reqs
        ]
        if self.certfile:
            context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def kwargs(self) -> dict[str, Any]:
        return {
            "ssl_ca_certs": self.ca_certs,
            "ssl_certfile": self.certfile,
            "ssl_keyfile": self.keyfile,
            "ssl_cert_reqs": self.cert_reqs,
            "ssl_check_hostname": self.check_hostname,
        }


class Keys:
    """Every key a deployment uses, under one namespace, so deployments can share a Redis."""

    GROUP = "workers"

    def __init__(self, namespace: str) -> None:
        if not namespace or any(c in namespace for c in " :*?[]"):
            raise ConfigError(f"namespace '{namespace}' must be non-empty, without spaces, ':' or glob characters")
        self.ns = namespace

    def inbox(self, address: str) -> str:
        return f"{self.ns}:in:{address}"

    def reply(self, client: str) -> str:
        return f"{self.ns}:reply:{client}"

    def notify(self, client: str) -> str:
        """The channel on which a client hears its answers and events as they are written."""
        return f"{self.ns}:notify:{client}"

    def notify_of(self, reply_key: str) -> str:
        """The channel that goes with a reply stream."""
        return self.notify(reply_key[len(self.ns) + 7 :])

    def dead(self, address: str) -> str:
        return f"{self.ns}:dead:{address}"

    def done(self, request_id: str) -> str:
        return f"{self.ns}:done:{request_id}"

    def live(self, address: str) -> str:
        return f"{self.ns}:live:{address}"

    def worker(self, worker_id: str) -> str:
        return f"{self.ns}:worker:{worker_id}"

    @property
    def workers(self) -> str:
        return f"{self.ns}:workers"

    @property
    def addresses(self) -> str:
        return f"{self.ns}:addresses"

    @property
    def cancel(self) -> str:
        return f"{self.ns}:cancel"

    def wake(self, consumer: str) -> str:
        return f"{self.ns}:wake:{consumer}"

    def address_of(self, inbox_key: str) -> str:
        return inbox_key[len(self.ns) + 4 :]


def redact(url: str) -> str:
    """The URL with its password replaced, for error messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"redis URL '{redact(url)}': the scheme must be redis://, rediss:// or unix://")
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(f"redis URL '{redact(url)}': no host (expected redis://[user:password@]host:port/db)")
    try:
        _ = parts.port  # reading it checks it
    except ValueError:
        raise ConfigError(f"redis URL '{redact(url)}': the port is not a number") from None
    db = parts.path.lstrip("/")
    if db and not db.isdigit():
        raise ConfigError(f"redis URL '{redact(url)}': the database '{db}' is not a number")


def connect(url: str, tls: RedisTLS | None, *, max_connections: int = 512) -> Any:
    """A `redis.asyncio.Redis` client for the URL; nothing is sent until first use."""
    import redis.asyncio as aioredis

    check_url(url)
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    # No retries inside redis-py: a retried XADD could queue a request twice and a retried blocking
    # read could lose what the first attempt delivered. `retrying` decides what is safe to repeat.
    kwargs: dict[str, Any] = {
        "max_connections": max_connections,
        "socket_connect_timeout": 5,
        "retry": Retry(NoBackoff(), 0),
    }
    if url.startswith("rediss://"):
        kwargs.update((tls or RedisTLS()).kwargs())
    elif tls is not None:
        raise ConfigError(f"TLS options were given but the URL '{redact(url)}' is not rediss://")
    return aioredis.Redis.from_url(url, **kwargs)


def connect_lean(url: str, tls: RedisTLS | None) -> Any:
    """A `RespClient`: one pipelined connection for the commands every request makes."""
    from ._resp import RespClient

    check_url(url)
    context = (tls or RedisTLS()).ssl_context() if url.startswith("rediss://") else None
    return RespClient(url, ssl_context=context)


def _transient() -> tuple[type[BaseException], ...]:
    import redis.exceptions as rex

    return (rex.ConnectionError, rex.TimeoutError, rex.BusyLoadingError, ConnectionError, OSError)


TRANSIENT = _transient()


async def ping(client: Any, url: str, *, probe: str | None = None, attempts: int = 10) -> None:
    """Check that Redis answers (and lets us touch `probe`), waiting a little for one that is starting."""
    import redis.exceptions as rex

    delay = 0.05
    for attempt in range(attempts):
        try:
            await client.execute_command("PING")
            if probe is not None:
                await client.execute_command("EXISTS", probe)
            return
        except rex.NoPermissionError as exc:
            raise RedisBusError(f"the Redis user of {redact(url)} may not use the keys {probe}: {exc}") from None
        except rex.AuthenticationError as exc:
            raise RedisBusError(f"Redis at {redact(url)} refused the credentials: {exc}") from None
        except rex.ResponseError as exc:
            if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc) or "NOPERM" in str(exc):
                raise RedisBusError(f"Redis at {redact(url)} refused the credentials: {exc}") from None
            raise RedisBusError(f"Redis at {redact(url)} answered PING with an error: {exc}") from None
        except TRANSIENT as exc:
            if attempt == attempts - 1:
                raise RedisBusError(f"cannot reach Redis at {redact(url)}: {exc}") from None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)


async def retrying(
    op: Callable[[], Awaitable[T]],
    *,
    what: str,
    closed: Callable[[], bool],
    backoff_max: float,
    until: float | None = None,
) -> T:
    """Run `op` until it succeeds, sleeping with jittered backoff while Redis is unreachable, loading
    its data or busy (transient: nothing is dropped for it); give up once `until` (epoch seconds) passed."""
    delay = 0.02
    while True:
        try:
            return await op()
        except TRANSIENT as exc:
            if closed():
                raise RedisBusError(f"the bus closed while {what}") from None
            if until is not None and time.time() > until:
                raise RedisBusError(f"Redis stayed unavailable while {what} until the deadline: {exc}") from None
            log.warning("redis unavailable while %s (%s); retrying in %.2fs", what, exc, delay)
            await asyncio.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, backoff_max)


async def stop_tasks(client: Any, tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel loops that may sit in a blocking read; drop the connections of any that do not stop."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    _done, stuck = await asyncio.wait(tasks, timeout=0.2)
    if stuck:  # a blocking read can outlive its cancellation: closing its socket ends it
        await client.connection_pool.disconnect()
        await asyncio.wait(stuck, timeout=2.0)
