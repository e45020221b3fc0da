"""What a sandboxed program can see: a read-only allow-list of system paths, nothing else.

Why an allow-list: the judge runs as root next to the answer files. Binding `/` and hiding
what we know to be secret would leak whatever we forgot (other problems' data, the judge's
work dir, home directories), so only the system's runtime (/usr, /etc, the interpreter's
prefix) is bound, read-only, and every writable place is a private tmpfs.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from aiflows.judge._seccomp import filter_fd

__all__ = [
    "SandboxView",
    "bwrap_path",
    "bwrap_problem",
    "bwrap_works",
    "others_can_run",
    "outermost",
    "python_executable",
    "seccomp_fd",
]

log = logging.getLogger("aiflows.judge")

# Capabilities the fork server keeps (as root of its own namespaces) to drop each child to its
# slot uid, hand it a scratch directory and kill what it leaves behind. Children keep none.
SERVER_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER")
SYSTEM_DIRS = ("/usr", "/etc", "/opt")
MERGED_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


def python_executable() -> str:
    """The real interpreter binary (not a pyenv shim script, which needs $HOME to resolve)."""
    return os.path.realpath(sys.executable)


def others_can_run(path: str) -> bool:
    """Whether an unprivileged uid could run `path` on the host (every folder above it o+x)."""
    real = Path(os.path.realpath(path))
    try:
        if not real.stat().st_mode & stat.S_IXOTH:
            return False
        return all(p.stat().st_mode & stat.S_IXOTH for p in real.parents)
    except OSError:
        return False


@cache
def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def bwrap_works() -> bool:
    """True when bubblewrap can build our namespaces here (containers may forbid them)."""
    return bwrap_problem() is None


@cache
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox programs here, or None when it can."""
    exe = bwrap_path()
    if exe is None:
        return "bubblewrap (bwrap) is not installed (not found on PATH)"
    why = _try_bwrap(exe, None)
    if why is not None:
        return f"bubblewrap ({exe}) is installed but cannot create the sandbox's namespaces here: {why}"
    return None


@cache
def _seccomp_works() -> bool:
    exe = bwrap_path()
    fd = filter_fd()
    if exe is None or fd is None:
        log.warning("no seccomp filter for this architecture: sandboxed programs may call ptrace, unshare, ...")
        return False
    try:
        why = _try_bwrap(exe, fd)
    finally:
        os.close(fd)
    if why is not None:
        log.warning("bwrap cannot load the seccomp filter (%s): the sandbox runs without it", why)
    return why is None


def seccomp_fd() -> int | None:
    """A fresh fd holding the seccomp filter for `bwrap --seccomp`, or None when unavailable."""
    return filter_fd() if _seccomp_works() else None


def _try_bwrap(exe: str, seccomp: int | None) -> str | None:
    view = SandboxView()
    try:
        done = subprocess.run(
            [exe, *view.bwrap_args(seccomp_fd=seccomp), "--", "/bin/true"],
            capture_output=True,
            timeout=20,
            check=False,
            pass_fds=() if seccomp is None else (seccomp,),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if done.returncode == 0 else done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"


class SandboxView(BaseModel):
    """The filesystem a sandboxed program sees.

    `extra_ro` adds read-only paths (a site-packages folder elsewhere, say); `ro_files` binds
    host paths at sandbox paths (`{"/judge/server.py": host_path}`); `hidden` puts an empty
    tmpfs over paths that lie inside a visible one (a problem stored under /opt).
    """

    model_config = ConfigDict(frozen=True)

    extra_ro: tuple[str, ...] = ()
    ro_binds: tuple[tuple[str, str], ...] = ()  # (host path, sandbox path)
    rw_binds: tuple[tuple[str, str], ...] = ()
    hidden: tuple[str, ...] = ()
    tmp_size_mb: int = Field(default=256, ge=1)  # the private /tmp (scratch of every run)

    def visible_roots(self) -> list[str]:
        roots = [d for d in SYSTEM_DIRS if os.path.isdir(d)]
        for d in MERGED_DIRS:
            if os.path.isdir(d) and not os.path.islink(d):
                roots.append(d)
        for p in {sys.base_prefix, sys.prefix, *self.extra_ro}:
            real = os.path.realpath(p)
            if os.path.exists(real) and not any(_inside(real, r) for r in roots):
                roots.append(real)
        return roots

    def is_visible(self, path: Path) -> bool:
        real = os.path.realpath(path)
        if any(_inside(real, h) for h in self.hidden):
            return False
        return any(_inside(real, r) for r in self.visible_roots())

    def data_to_hide(self, paths: Iterable[Path]) -> tuple[str, ...]:
        """The folders to hide so that problem data under a visible path stays out of sight.

        Each visible path is hidden with its siblings: its parent folder when that lies strictly
        inside a visible root and holds none of the roots (a problem set under a venv or /opt),
        else every sibling that looks like a problem package (problem.yaml or data/).
        """
        roots = self.visible_roots()
        hidden: set[str] = set()
        for path in paths:
            real = Path(os.path.realpath(path))
            if not self.is_visible(real):
                continue
            hidden.add(str(real))
            parent = str(real.parent)
            strictly_inside = any(_inside(parent, r) and parent != r for r in roots)
            if strictly_inside and not any(_inside(r, parent) for r in roots):
                hidden.add(parent)
                continue
            siblings = _problem_like_children(real.parent)
            hidden.update(str(s) for s in siblings if not any(_inside(r, str(s)) for r in roots))
        return outermost(hidden)

    def bwrap_args(self, cwd: str = "/tmp", seccomp_fd: int | None = None) -> list[str]:
        """bwrap's options for this view; `seccomp_fd` (see `seccomp_fd()`) adds the syscall filter."""
        args = [
            "--die-with-parent",
            "--new-session",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--hostname",
            "sandbox",
        ]
        # the private /tmp first: a visible path below it (extra_ro) is bound on top of it
        args += ["--proc", "/proc", "--dev", "/dev"]
        args += ["--perms", "1777", "--size", str(self.tmp_size_mb << 20), "--tmpfs", "/tmp"]
        args += ["--size", str(1 << 20), "--tmpfs", "/dev/shm"]
        made: set[str] = {"/tmp", "/dev", "/proc"}
        for root in self.visible_roots():
            args += _parents(root, made) + ["--ro-bind", root, root]
        for d in MERGED_DIRS:
            if os.path.islink(d):
                args += ["--symlink", os.readlink(d), d]
        for host, inside in self.ro_binds:
            args += _parents(inside, made) + ["--ro-bind", host, inside]
        for host, inside in self.rw_binds:
            args += _parents(inside, made) + ["--bind", host, inside]
        for path in self.hidden:
            args += ["--tmpfs", path]
        args += ["--chdir", cwd, "--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin"]
        if seccomp_fd is not None:
            args += ["--seccomp", str(seccomp_fd)]
        return args

    def server_cap_args(self) -> list[str]:
        return _caps(SERVER_CAPS)

    def drop_to(self, uid: int) -> list[str]:
        """bwrap options + command prefix that run the command as `uid` with no capabilities.

        bwrap itself runs as root (it can then bind anything it needs, e.g. an interpreter under
        a 0700 /root), and setpriv drops to the unprivileged uid before the program starts.
        """
        if os.geteuid() != 0:
            return []
        return [
            *_caps(("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")),
            "--",
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]


def _caps(keep: tuple[str, ...]) -> list[str]:
    if os.geteuid() != 0:
        return []
    args = ["--cap-drop", "ALL"]
    for cap in keep:
        args += ["--cap-add", cap]
    return args


def _parents(path: str, made: set[str]) -> list[str]:
    """bwrap makes missing parents mode 0700; the unprivileged child must traverse them."""
    args: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):
        if str(parent) not in made:
            made.add(str(parent))
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def outermost(paths: Iterable[str]) -> tuple[str, ...]:
    """`paths` without those inside another one, sorted: the same data hidden is the same tuple,
    so problems of one set share one fork server instead of starting one each."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not any(_inside(path, k) for k in kept):
            kept.append(path)
    return tuple(kept)


def _problem_like_children(folder: Path) -> list[Path]:
    try:
        children = [c for c in folder.iterdir() if c.is_dir() and not c.is_symlink()]
    except OSError:
        return []
    return [c for c in children if (c / "problem.yaml").is_file() or (c / "data").is_dir()]


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")
