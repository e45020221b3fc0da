"""Where the web page listens, which Host names it answers to, its token and the URL to open.

    hosts = allowed_hosts("127.0.0.1", 8765)      # ['127.0.0.1:8765', 'localhost:8765', '[::1]:8765']
    token = ui_token(None)                        # $AIFLOWS_UI_TOKEN, or a fresh secret
    print(browse_url("127.0.0.1", 8765, token))   # http://127.0.0.1:8765/?token=...

Why: the Host check only works with the exact list of names people reach the server by, and a
token typed by a person must be long enough and safe to put in a URL and a cookie.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Iterable

from ...exceptions import ConfigError

__all__ = ["allowed_hosts", "browse_url", "is_loopback", "is_wildcard", "ui_token"]

TOKEN_ENV = "AIFLOWS_UI_TOKEN"
MIN_TOKEN_CHARS = 16
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-.~]+")


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """True for the 'every interface' addresses (0.0.0.0, ::, or empty)."""
    name = host.strip("[]")
    return name in ("", "0.0.0.0", "::")


def _in_url(host: str) -> str:
    """The host as it appears in a URL or Host header: IPv6 addresses in brackets."""
    name = host.strip("[]").lower()
    return f"[{name}]" if ":" in name else name


def allowed_hosts(bind_host: str, port: int, extra: Iterable[str] = ()) -> list[str]:
    """The `Host` header values (`name:port`) a server bound to `bind_host:port` answers to.

    Loopback and wildcard binds answer to the loopback names; another address answers to itself.
    `extra` adds names people use to reach it (`--allow-host`), e.g. the machine's DNS name.
    """
    if is_loopback(bind_host) or is_wildcard(bind_host):
        names = list(_LOOPBACK_NAMES)
        if is_loopback(bind_host) and _in_url(bind_host) not in names:
            names.insert(0, _in_url(bind_host))
    else:
        names = [_in_url(bind_host)]
    for name in extra:
        if not name or any(c in name for c in "/@ \t"):
            raise ConfigError(
                f"--allow-host {name!r} is not a host name (give a name like ui.example.org, no scheme or path)"
            )
        if _in_url(name) not in names:
            names.append(_in_url(name))
    hosts = [f"{name}:{port}" for name in names]
    if port == 80:
        hosts += names  # browsers leave the default port out of Host
    return hosts


def ui_token(given: str | None) -> str:
    """The server's token: `given` (--token), else $AIFLOWS_UI_TOKEN, else a fresh random one.

    Raises:
        ConfigError: a given token is shorter than 16 characters or holds characters unsafe in a URL or cookie.
    """
    token = given if given is not None else os.environ.get(TOKEN_ENV)
    if token is None or token == "":
        return secrets.token_urlsafe(32)
    where = "--token" if given is not None else f"${TOKEN_ENV}"
    if len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(
            f"{where} is {len(token)} characters long; give at least {MIN_TOKEN_CHARS} (or leave it out for a random one)"
        )
    if not _TOKEN_CHARS.fullmatch(token):
        raise ConfigError(f"{where} may hold only letters, digits and - _ . ~ (it goes into a URL and a cookie)")
    return token


def browse_url(bind_host: str, port: int, token: str) -> str:
    """The URL to open: the bound address (loopback for a wildcard bind) with the token."""
    host = "127.0.0.1" if is_wildcard(bind_host) else _in_url(bind_host)
    return f"http://{host}:{port}/?token={token}"
