"""Git plumbing for the hub: bare mirrors, tags, and reading trees without checking them out.

Each remote is mirrored once into `$AIFLOWS_HOME/hub/git/<hash of url>.git`; later pulls fetch
only what is new. Trees are read with `ls-tree` and `cat-file --batch`, so a repository's
content never reaches the disk before `_files` has checked every path.

Every git process runs with the transports limited to the allowed protocols (`GIT_ALLOW_PROTOCOL`,
which overrides any `protocol.*.allow` in the user's config), hooks off, and `--end-of-options`
or `--` before values that came from outside, which are checked first (`_validate`).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

from ._errors import HubError, IntegrityError
from ._files import DEFAULT_LIMITS, FileEntry, Limits, check_relative, resolve_links
from ._validate import DEFAULT_PROTOCOLS, check_commit, check_git_url

__all__ = ["GitMirror", "run_git"]

_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "LC_ALL": "C", "GIT_PROTOCOL_FROM_USER": "0"}
# No hooks (a fetch runs `reference-transaction`, a push `pre-push`) and no transport beyond the allowed ones.
_SAFE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "protocol.allow=never")


def run_git(
    *args: str,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    check: bool = True,
    protocols: Iterable[str] = DEFAULT_PROTOCOLS,
) -> bytes:
    """Run git with hooks off and only `protocols` allowed; on failure raise `HubError` with git's message."""
    allowed = tuple(protocols)
    config = [*_SAFE_CONFIG, *(x for p in allowed for x in ("-c", f"protocol.{p}.allow=always"))]
    env = {**os.environ, **_ENV, "GIT_ALLOW_PROTOCOL": ":".join(allowed)}
    proc = subprocess.run(["git", *config, *args], cwd=cwd, input=stdin, capture_output=True, env=env, check=False)
    if check and proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise HubError(f"git {' '.join(args[:2])} failed: {msg[-1] if msg else 'exit ' + str(proc.returncode)}")
    return proc.stdout


class GitMirror:
    """A bare mirror of one remote, kept under `root`."""

    def __init__(self, root: Path, url: str, protocols: Iterable[str] = DEFAULT_PROTOCOLS) -> None:
        self.protocols = tuple(protocols)
        self.url = check_git_url(url, "git remote", self.protocols)
        self.path = root / (hashlib.sha256(url.encode()).hexdigest()[:24] + ".git")
        self._fetched = False
        self._lock = threading.Lock()  # a prefetch thread and the resolver may update the same mirror

    def _git(self, *args: str, stdin: bytes | None = None, check: bool = True) -> bytes:
        return run_git("--git-dir", str(self.path), *args, stdin=stdin, check=check, protocols=self.protocols)

    def update(self) -> None:
        """Fetch all branches and tags (once per mirror object)."""
        with self._lock:
            if self._fetched:
                return
            if not self.path.is_dir():
                run_git("init", "--quiet", "--bare", "--template=", "--", str(self.path))
            try:
                self._git(
                    "fetch",
                    "--quiet",
                    "--prune",
                    "--force",
                    "--no-tags",
                    "--",
                    self.url,
                    "+refs/heads/*:refs/heads/*",
                    "+refs/tags/*:refs/tags/*",
                )
            except HubError as exc:
                raise HubError(f"cannot fetch {self.url}: {exc}") from None
            self._fetched = True

    def tags(self) -> dict[str, str]:
        """Tag name -> commit it points to (annotated tags peeled)."""
        out = self._git("for-each-ref", "--format=%(refname:short) %(objectname) %(*objectname)", "refs/tags")
        tags = {}
        for line in out.decode().splitlines():
            name, obj, peeled = (line.split(" ") + [""])[:3]
            tags[name] = peeled or obj
        return tags

    def resolve(self, rev: str) -> str | None:
        """The commit `rev` (tag, branch or commit) names in the mirror, or None."""
        if rev.startswith("-"):
            return None
        out = self._git(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}", check=False
        ).strip()
        return out.decode() or None

    def ensure_commit(self, commit: str) -> str:
        """Make sure `commit` is in the mirror, fetching it from the remote if needed."""
        if found := self.resolve(commit):
            return found
        self.update()
        if found := self.resolve(commit):
            return found
        check_commit(commit, self.url)  # a full id: anything else would be a ref or option git could misread
        self._git("fetch", "--quiet", "--", self.url, commit, check=False)
        if found := self.resolve(commit):
            return found
        raise HubError(f"{self.url}: commit {commit} not found")

    def read(self, commit: str, path: str) -> bytes | None:
        """One file's bytes at `commit`, or None if absent."""
        try:
            return self._git("cat-file", "blob", "--end-of-options", f"{check_commit(commit, self.url)}:{path}")
        except HubError:
            return None

    def entries(self, commit: str, limits: Limits = DEFAULT_LIMITS) -> list[FileEntry]:
        """Every file at `commit`, checked: no path or symlink may leave the tree, and within `limits`.

        The listing gives each blob's size, so an oversized tree is refused before any blob is read.
        """
        where = f"{self.url}@{commit[:12]}"
        listing = self._git(
            "ls-tree", "-r", "-z", "-l", "--full-tree", "--end-of-options", check_commit(commit, self.url)
        )
        items: list[tuple[str, str, str]] = []
        total = 0
        for record in listing.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, sha, size = meta.decode().split()
            path = check_relative(raw_path.decode(errors="surrogateescape"), where)
            if kind != "blob":
                raise IntegrityError(f"{where}: refusing {path!r}: {kind} entries (submodules) are not supported")
            items.append((mode, sha, path))
            total += int(size)
            limits.check(len(items), total, where)
        blobs = self._blobs([sha for _, sha, _ in items])
        files: dict[str, FileEntry] = {}
        links: dict[str, str] = {}
        for mode, sha, path in items:
            if mode == "120000":
                links[path] = blobs[sha].decode(errors="surrogateescape")
            else:
                files[path] = FileEntry(path, blobs[sha], mode == "100755")
        return resolve_links(files, links, where)

    def _blobs(self, shas: list[str]) -> dict[str, bytes]:
        if not shas:
            return {}
        out = self._git("cat-file", "--batch", stdin="\n".join(shas).encode() + b"\n")
        blobs: dict[str, bytes] = {}
        pos = 0
        while pos < len(out):
            header_end = out.index(b"\n", pos)
            sha, _, size = out[pos:header_end].decode().split(" ")
            start = header_end + 1
            blobs[sha] = out[start : start + int(size)]
            pos = start + int(size) + 1
        return blobs
