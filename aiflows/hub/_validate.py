"""Checks on every value that a lock, manifest, index or hub.yaml hands to git or to a download.

A lock file or an index comes from whoever wrote the repository the user cloned, so each value is
checked before it reaches a subprocess: git would take `--upload-pack=<command>` in a URL or a
commit as an option and `ext::<command>` as a transport, and run the command.

    >>> check_commit("a" * 40, "flows.lock")
    'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
    >>> git_protocol("git@example.org:ada/fmt.git")
    'ssh'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ._errors import HubError

__all__ = [
    "DEFAULT_PROTOCOLS",
    "KNOWN_PROTOCOLS",
    "check_commit",
    "check_folder_location",
    "check_git_url",
    "check_hf_id",
    "git_protocol",
]

# Git transports the hub may use unless hub.yaml's `protocols:` says otherwise. `git` and `http` are
# known to git but carry no authentication or encryption, so they are opt-in.
DEFAULT_PROTOCOLS = ("https", "ssh", "file")
KNOWN_PROTOCOLS = ("https", "ssh", "file", "git", "http")

_COMMIT = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_HELPER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.-]*::")  # `ext::cmd`, `fd::0`: a remote helper, not a URL
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_SCP = re.compile(r"^(?:([A-Za-z0-9._~-]+)@)?([A-Za-z0-9.-]+):(.*)$")  # git@host:path, git's ssh shorthand
_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
_SSH_ALIASES = {"git+ssh": "ssh", "ssh+git": "ssh"}


def _printable(value: str, what: str, where: str = "") -> None:
    prefix = f"{where}: " if where else ""
    if not value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise HubError(f"{prefix}{what} {value!r} is empty or holds control characters")
    if value.startswith("-"):
        raise HubError(f"{prefix}{what} {value!r} starts with '-', which git would read as an option")


def check_commit(value: str, where: str) -> str:
    """Return `value` if it is a full commit id (40 or 64 lowercase hex digits), else raise `HubError`."""
    if not _COMMIT.match(value):
        raise HubError(f"{where}: commit {value!r} is not a full commit id (40 or 64 hex digits)")
    return value


def git_protocol(url: str) -> str:
    """The transport git would use for `url`: a scheme, `ssh` for `host:path`, `file` for a path.

    Raises `HubError` for remote-helper syntax (`ext::...`), option-like values and unknown shapes.
    """
    _printable(url, "git URL")
    if _HELPER.match(url):
        raise HubError(
            f"git URL {url!r} uses remote-helper syntax ('<transport>::'), which can run commands; "
            f"use an https://, ssh:// or file:// URL"
        )
    if m := _SCHEME.match(url):
        scheme = m.group(1).lower()
        scheme = _SSH_ALIASES.get(scheme, scheme)
        if scheme not in KNOWN_PROTOCOLS:
            raise HubError(f"git URL {url!r}: unknown scheme {scheme!r}; expected one of {', '.join(KNOWN_PROTOCOLS)}")
        parts = urlsplit(url)
        if scheme != "file" and (
            not parts.hostname
            or (parts.netloc.rsplit("@", 1)[-1]).startswith("-")
            or (parts.username or "").startswith("-")
        ):
            raise HubError(f"git URL {url!r}: missing host, or a host or user that starts with '-'")
        return scheme
    if url.startswith("/"):
        return "file"
    if (m := _SCP.match(url)) and "/" not in url.split(":", 1)[0]:
        if m.group(2).startswith("-") or (m.group(1) or "").startswith("-"):
            raise HubError(f"git URL {url!r}: a host or user that starts with '-'")
        return "ssh"
    raise HubError(f"git URL {url!r}: expected scheme://host/path, user@host:path or an absolute path")


def check_git_url(url: str, where: str, protocols: Iterable[str] = DEFAULT_PROTOCOLS) -> str:
    """Return `url` if git may fetch it with one of `protocols`, else raise `HubError` saying why."""
    allowed = tuple(protocols)
    try:
        protocol = git_protocol(url)
    except HubError as exc:
        raise HubError(f"{where}: {exc}") from None
    if protocol not in allowed:
        raise HubError(
            f"{where}: git URL {url!r} uses protocol {protocol!r}, which is not allowed "
            f"(allowed: {', '.join(allowed)}); add it under 'protocols:' in hub.yaml to allow it"
        )
    return url


def check_folder_location(path: str, where: str) -> str:
    """Return `path` if it has no control characters and does not look like an option, else raise `HubError`."""
    _printable(path, "folder", where)
    return path


def check_hf_id(repo_id: str, where: str) -> str:
    """Return `repo_id` if it reads `name` or `owner/name`, else raise `HubError`."""
    if not _HF_ID.match(repo_id) or ".." in repo_id:
        raise HubError(f"{where}: Hugging Face repository id {repo_id!r} is not 'owner/name'")
    return repo_id
