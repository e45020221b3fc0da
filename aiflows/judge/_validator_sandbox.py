"""Where validators, interactors and Code Jam judges are built and run: in the sandbox.

They are problem code: a package downloaded from anywhere brings them, so they get what a
program gets, not the judge's rights. Inside bubblewrap a validator sees the system read-only,
a private /tmp, no network, the programs' system-call filter, and only what its protocol needs:

    /validator            its own built folder (read-only; writable only while it is built)
    /judge/testcase.in    the test's input          (read-only)
    /judge/testcase.ans   the test's answer         (read-only)
    /judge/attempt        the program's output, for Code Jam judges (Kattis ones read stdin)
    /judge/feedback       the feedback folder       (writable)

As root it runs as an unprivileged uid of its own, under CPU, memory and wall-clock limits.
With the judge's sandbox switched off (`sandbox="none"`) it runs on the host, as the judge.
"""

from __future__ import annotations

import math
import os
import resource
import select
import shutil
import stat
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, Unpack

from aiflows.judge._models import Limits
from aiflows.judge._sandbox import SandboxView, bwrap_path, python_executable, seccomp_fd

if TYPE_CHECKING:
    from aiflows.judge._executor import Executor

__all__ = [
    "ANSWER",
    "ATTEMPT",
    "BUILD_LIMITS",
    "FEEDBACK",
    "HOME",
    "INPUT",
    "UNSANDBOXED",
    "Finished",
    "ValidatorSandbox",
    "read_written",
    "run_limits",
    "wait_exit",
]

HOME = "/validator"
INPUT = "/judge/testcase.in"
ANSWER = "/judge/testcase.ans"
ATTEMPT = "/judge/attempt"
FEEDBACK = "/judge/feedback"
VALIDATOR_UID = 71  # offset from JudgeConfig.uid_base: programs use 0..64, compiles 70, fork servers 100+
BUILD_LIMITS = Limits(cpu_s=120, wall_s=120, memory_mb=4096, processes=128, output_mb=64, file_mb=256)
# puts the pipes handed over as fds argv[1], argv[2] on stdin and stdout, then runs argv[3:]
# (Python, not sh: dash cannot name fds above 9)
MOVE_FDS = (
    "import os, sys; i, o = int(sys.argv[1]), int(sys.argv[2]); os.dup2(i, 0); os.dup2(o, 1); "
    "os.close(i); os.close(o); os.execvp(sys.argv[3], sys.argv[3:])"
)
ENV = {"LANG": "C.UTF-8", "HOME": "/tmp", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONIOENCODING": "utf-8"}


class Binds(TypedDict, total=False):
    """What a sandboxed run sees of the host (the keyword arguments of `ValidatorSandbox.start`)."""

    home: tuple[Path, bool] | None
    ro: Sequence[tuple[Path, str]]
    rw: Sequence[tuple[Path, str]]
    cwd: tuple[Path | None, str]


def run_limits(wall_s: float) -> Limits:
    """Limits of one validator run: CPU up to its wall clock, 4 GiB of address space."""
    return Limits(cpu_s=wall_s, wall_s=wall_s, memory_mb=4096, processes=128, output_mb=64, file_mb=256)


@dataclass(frozen=True)
class Finished:
    """How a validator process ended (`code` None when a signal or the wall clock ended it)."""

    code: int | None
    signal: int | None = None
    timed_out: bool = False
    output: bytes = b""  # stdout + stderr, when captured


@dataclass(frozen=True)
class ValidatorSandbox:
    """Runs validator commands in bubblewrap (`view` set) or on the host (`view` None).

    Commands name files by their sandbox paths (HOME, INPUT, ...); `path()` and `argv()` give the
    host paths instead when there is no sandbox, so one caller serves both modes.
    """

    view: SandboxView | None
    uid: int | None = None  # run as this uid (root only)
    hidden: tuple[str, ...] = field(default=())  # host paths to hide inside visible ones

    @classmethod
    def for_executor(cls, executor: Executor, hidden: Sequence[str] = ()) -> ValidatorSandbox:
        """The sandbox that matches how `executor` runs programs."""
        if not executor.sandboxed:
            return UNSANDBOXED
        uid = executor.uid_base + VALIDATOR_UID if executor.drop_uid else None
        return cls(view=executor.base_view, uid=uid, hidden=tuple(hidden))

    @property
    def sandboxed(self) -> bool:
        return self.view is not None

    def hiding(self, hidden: Sequence[str]) -> ValidatorSandbox:
        return ValidatorSandbox(self.view, self.uid, (*self.hidden, *hidden))

    def path(self, host: Path, inside: str) -> str:
        """The name a command uses for `host`, bound at `inside` in the sandbox."""
        return inside if self.sandboxed else str(host)

    def argv(self, argv: Sequence[str], home: Path | None) -> list[str]:
        """`argv` (host paths) with `home` named as the sandbox sees it."""
        if not self.sandboxed or home is None:
            return list(argv)
        prefix = str(home)
        return [HOME + a[len(prefix) :] if a == prefix or a.startswith(prefix + "/") else a for a in argv]

    def own(self, folder: Path) -> None:
        """Give `folder` (and what it holds) to the validator's uid, so that it may write there."""
        if self.uid is None or os.geteuid() != 0:
            return
        os.chown(folder, self.uid, self.uid)
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                os.chown(os.path.join(root, name), self.uid, self.uid, follow_symlinks=False)

    def readable(self, host: Path, scratch: Path, name: str) -> Path:
        """`host`, or a world-readable copy in `scratch` when the validator's uid could not read it."""
        if self.uid is None or os.stat(host).st_mode & stat.S_IROTH:
            return host
        copy = scratch / name
        shutil.copyfile(host, copy)
        copy.chmod(0o644)
        return copy

    def start(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        home: tuple[Path, bool] | None = None,
        ro: Sequence[tuple[Path, str]] = (),
        rw: Sequence[tuple[Path, str]] = (),
        cwd: tuple[Path | None, str] = (None, "/tmp"),
        stdin: int | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
        pipes: bool = False,
    ) -> subprocess.Popen[bytes]:
        """Start `argv`; `home` is (its built folder, writable?); `ro`/`rw` bind host files at
        sandbox paths; `cwd` is (host folder, sandbox folder). Unsandboxed, only `cwd`'s host
        folder and the pipes are used, as the judge always ran validators.

        `pipes`: stdin and stdout are pipe fds whose far ends must see the validator close them
        (an interactor that closes stdout ends the program's input). bwrap's own processes would
        hold copies of its stdin and stdout, so these go in as extra fds, moved into place inside.
        """
        if self.view is None:
            return subprocess.Popen(
                list(argv), stdin=stdin, stdout=stdout, stderr=stderr, cwd=cwd[0], start_new_session=True
            )
        exe = bwrap_path()
        if exe is None:
            raise FileNotFoundError("bwrap (bubblewrap), needed to run the problem's validator, is not installed")
        binds_ro = [(str(h), i) for h, i in ro]
        binds_rw = [(str(h), i) for h, i in rw]
        if home is not None:
            (binds_rw if home[1] else binds_ro).append((str(home[0]), HOME))
        view = self.view.model_copy(
            update={
                "ro_binds": (*self.view.ro_binds, *binds_ro),
                "rw_binds": (*self.view.rw_binds, *binds_rw),
                "hidden": (*self.view.hidden, *self.hidden),
            }
        )
        filter_fd = seccomp_fd()  # the programs' system-call filter (no ptrace, no new namespaces)
        try:
            cmd = [exe, *view.bwrap_args(cwd[1], seccomp_fd=filter_fd)]
            for key, value in ENV.items():
                cmd += ["--setenv", key, value]
            dropped = view.drop_to(self.uid) if self.uid is not None else []
            cmd += dropped or ["--"]
            extra: tuple[int, ...] = () if filter_fd is None else (filter_fd,)
            if pipes and stdin is not None and stdout is not None:
                cmd += [python_executable(), "-I", "-S", "-c", MOVE_FDS, str(stdin), str(stdout)]
                extra += (stdin, stdout)
                stdin = stdout = subprocess.DEVNULL
            cmd += argv
            return subprocess.Popen(
                cmd,
                stdin=stdin,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                pass_fds=extra,
                preexec_fn=lambda: _set_limits(limits),  # noqa: PLW1509 - limits must be set in the child
            )
        finally:
            if filter_fd is not None:
                os.close(filter_fd)

    def run(
        self,
        argv: Sequence[str],
        limits: Limits,
        *,
        capture: bool = False,
        stdin: int | None = None,
        stderr: int | None = None,
        **where: Unpack[Binds],
    ) -> Finished:
        """`start`, then wait up to the wall limit (then kill it); `capture` keeps stdout + stderr."""
        if capture:
            out, err = subprocess.PIPE, subprocess.STDOUT
        else:
            out, err = subprocess.DEVNULL, stderr if stderr is not None else subprocess.DEVNULL
        stdin = stdin if stdin is not None else subprocess.DEVNULL
        proc = self.start(argv, limits, stdin=stdin, stdout=out, stderr=err, **where)
        try:
            if capture:
                output, _ = proc.communicate(timeout=limits.wall_s)
            else:
                output = b""
                if not wait_exit(proc, limits.wall_s):
                    raise subprocess.TimeoutExpired(proc.args, limits.wall_s)
        except subprocess.TimeoutExpired:
            kill(proc)
            output, _ = proc.communicate()
            return Finished(code=None, timed_out=True, output=output or b"")
        return self._finished(proc.returncode, output or b"")

    def _finished(self, status: int, output: bytes) -> Finished:
        if status < 0:
            return Finished(code=None, signal=-status, output=output)
        if self.sandboxed and 128 < status < 128 + 65:  # bwrap: a child killed by signal N exits 128 + N
            return Finished(code=None, signal=status - 128, output=output)
        return Finished(code=status, output=output)


UNSANDBOXED = ValidatorSandbox(view=None)


def wait_exit(proc: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until `proc` exits (True) or `timeout` passes (False), woken by the exit itself.

    `Popen.wait(timeout)` polls with sleeps that grow to 50 ms; on a judge that starts one
    validator per test, that sleeping was most of a test's time. A pidfd wakes us at the exit.
    """
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or already reaped
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(max(0.0, timeout) * 1000):
            return False
    finally:
        os.close(pidfd)
    proc.wait()
    return True


def kill(proc: subprocess.Popen[bytes]) -> None:
    """Kill a validator and all it started (bwrap's --die-with-parent takes its namespace down)."""
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def read_written(path: Path, limit: int) -> bytes | None:
    """Read a file the validator wrote, at most `limit` bytes: only a regular file, never a
    symlink (it could point at any host file) nor a FIFO (opening it would block the judge)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit)
    finally:
        os.close(fd)


def _set_limits(limits: Limits) -> None:
    """In the child, before bwrap starts: only plain system calls (the judge has threads)."""
    cpu = max(1, math.ceil(limits.cpu_s))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    memory = limits.memory_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    size = int(limits.file_mb * (1 << 20))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
