"""The fresh-process path: one bubblewrap (or bare) process per run.

Used for compile steps (gcc/g++ need a writable output folder) and whenever the warm fork
server is switched off or cannot start. Limits are set in the child before it execs; as root
the child also drops to an unprivileged uid, so RLIMIT_NPROC holds (root ignores it).
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
import subprocess
import time
from collections.abc import Sequence

from aiflows.judge._models import Limits, RunResult
from aiflows.judge._sandbox import SandboxView, bwrap_path, seccomp_fd

__all__ = ["run_direct"]


CLONE_NEWNET = 0x40000000


def _preexec(
    limits: Limits, uid: int | None, libc: ctypes.CDLL | None, address_space: bool, cpu_id: int | None
) -> None:
    """In the child, before exec: only plain system calls (the parent has threads)."""
    if libc is not None:  # no bubblewrap: as root, at least take the network away
        libc.unshare(CLONE_NEWNET)
    cpu = max(1, math.ceil(max(limits.cpu_s, limits.cpu_kill_s or 0.0)))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if address_space:  # off for the JVM, which reserves far more than it uses (memory is then RSS)
        mem = limits.memory_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    fsize = int(max(limits.output_mb, limits.file_mb) * (1 << 20)) + 1
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.stack_mb is None:  # the whole memory limit: RLIMIT_AS bounds it (see Limits.stack_mb)
        _soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
        resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))
    else:
        stack = min(limits.stack_mb, limits.memory_mb) << 20
        resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
    if cpu_id is not None:
        os.sched_setaffinity(0, {cpu_id})
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # CPython ignores it; the program starts with the default
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # as on the fork server: oversized writes fail with EFBIG
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)


def run_direct(
    argv: Sequence[str],
    limits: Limits,
    *,
    stdin: int,
    stdout: int,
    stderr: int,
    view: SandboxView | None,
    uid: int | None,
    cwd: str = "/tmp",
    env: dict[str, str] | None = None,
    address_space: bool = True,
    cpu_id: int | None = None,
) -> RunResult:
    """Run `argv` in a fresh sandbox (or bare, when `view` is None) under `limits`.

    Inside bwrap, `cwd` must exist in the view (the private /tmp does). `address_space=False` sets
    no RLIMIT_AS (the JVM); `cpu_id` pins the run to that CPU. Returns how it ended;
    a wall-clock overrun kills the whole process group and sets `timed_out`.
    """
    cmd = list(argv)
    drop_uid = uid
    filter_fd = None
    if view is not None:
        exe = bwrap_path()
        if exe is None:
            raise FileNotFoundError("bwrap")
        filter_fd = seccomp_fd()
        cmd = [exe, *view.bwrap_args(cwd, seccomp_fd=filter_fd)]
        for key, value in (env or {}).items():
            cmd += ["--setenv", key, value]
        if uid is not None and os.geteuid() == 0:
            cmd += view.drop_to(uid)  # ends with "--" and the setpriv prefix
            drop_uid = None
        else:
            cmd.append("--")
        cmd += argv
    # loaded here, not in the child: dlopen after fork in a threaded process may deadlock
    libc = ctypes.CDLL(None, use_errno=True) if view is None and os.geteuid() == 0 else None
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            cmd,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=None if view is not None else cwd,
            env=env if view is None else None,
            start_new_session=True,
            pass_fds=() if filter_fd is None else (filter_fd,),
            preexec_fn=lambda: _preexec(limits, drop_uid, libc, address_space, cpu_id),  # noqa: PLW1509 - limits must be set in the child
        )
    finally:
        if filter_fd is not None:
            os.close(filter_fd)
    timed_out = False
    try:
        _pid, status, ru = _wait4(proc.pid, limits.wall_s)
    except TimeoutError:
        timed_out = True
        _killpg(proc.pid)
        _pid, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = status  # keep Popen from waiting again
    wall = time.monotonic() - started
    _killpg(proc.pid)  # nothing of the run may outlive it
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    if view is not None and code is not None and 128 < code < 128 + 65:
        sig, code = code - 128, None  # bwrap reports a child killed by signal N as exit 128 + N
    return RunResult(
        exit_code=code,
        signal=sig,
        cpu_s=ru.ru_utime + ru.ru_stime,
        wall_s=wall,
        max_rss_kb=ru.ru_maxrss,
        timed_out=timed_out,
        killed=timed_out,
    )


def _wait4(pid: int, timeout: float) -> tuple[int, int, resource.struct_rusage]:
    """wait4 with a timeout, via a pidfd (no polling loop, no SIGCHLD handler)."""
    import select

    fd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            raise TimeoutError
        return os.wait4(pid, 0)
    finally:
        os.close(fd)


def _killpg(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
