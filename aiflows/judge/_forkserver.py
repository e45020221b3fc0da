"""The judge's side of the warm fork server: start it, send runs, match replies.

Why a dedicated thread starts the server: bubblewrap's --die-with-parent is tied to the
*thread* that forked it; starting it from a short-lived worker thread would kill the
sandbox when that thread ends. The same thread then reads replies for the server's life.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from aiflows.judge._errors import SandboxError
from aiflows.judge._models import Limits, RunResult
from aiflows.judge._sandbox import (
    SandboxView,
    bwrap_path,
    python_executable,
    seccomp_fd,
)

__all__ = ["ForkServer", "Program"]

log = logging.getLogger("aiflows.judge")

SERVER_FILE = Path(__file__).with_name("_server_main.py")
SERVER_IN_SANDBOX = "/judge/server.py"
PROGRAMS_IN_SANDBOX = "/judge/programs"


class Program:
    """What to run: Python source run warm in the server, or a file to exec (`argv`).

    `folder` names the submission's folder under the programs dir: a fresh sandbox binds only
    that one (the warm server shows the whole dir, unlistable, with unguessable folder names).
    """

    def __init__(
        self,
        mode: str,
        path: str,
        argv: list[str] | None = None,
        folder: str | None = None,
        *,
        env: dict[str, str] | None = None,
        address_space: bool = True,
    ) -> None:
        if mode not in ("python", "exec"):
            raise ValueError(f"unknown program mode {mode!r}")
        self.mode = mode
        self.path = path  # as seen inside the sandbox
        self.argv = argv or [path]
        self.folder = folder
        # on top of the run's usual environment: where a runtime finds the program (CLASSPATH),
        # kept out of argv, which any process may read in /proc
        self.env = env or {}
        self.address_space = address_space  # False: no RLIMIT_AS (the JVM), memory is its RSS

    @property
    def folder_in_sandbox(self) -> str:
        return f"{PROGRAMS_IN_SANDBOX}/{self.folder}"


class ForkServer:
    """One warm, sandboxed Python that forks a child per run.

    `programs_dir` (host) is visible read-only inside at /judge/programs: compiled binaries
    and Python sources go there. `sandboxed=False` runs the server unsandboxed (no bwrap):
    limits and the uid switch still apply, the filesystem and network do not.
    """

    def __init__(
        self,
        programs_dir: Path,
        view: SandboxView,
        *,
        sandboxed: bool,
        scratch_dir: Path,
        slots: int = 16,
        uid_base: int = 61000,
    ) -> None:
        self.programs_dir = programs_dir
        self.scratch_dir = scratch_dir  # used when not sandboxed; inside, the private /tmp
        self.view = view
        self.sandboxed = sandboxed
        self.slots = slots
        self.uid_base = uid_base
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._pending: dict[int, Future[RunResult]] = {}
        self._lock = threading.Lock()
        self._next_id = 0
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the fork server was already started")
        self._thread = threading.Thread(target=self._main, name="aiflows-judge-forkserver", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            raise SandboxError(f"the fork server did not start: {self._start_error}") from self._start_error

    def _argv(self, fd: int, filter_fd: int | None) -> list[str]:
        py = python_executable()
        tail = [py, "-u", SERVER_IN_SANDBOX if self.sandboxed else str(SERVER_FILE), str(fd)]
        tail += [str(self.uid_base), str(self.slots), "/tmp" if self.sandboxed else str(self.scratch_dir)]
        if not self.sandboxed:
            return [*tail, "--unshare-net"] if os.geteuid() == 0 else tail
        exe = bwrap_path()
        if exe is None:
            raise SandboxError("bwrap is not installed")
        view = self.view.model_copy(
            update={
                "ro_binds": (
                    *self.view.ro_binds,
                    (str(SERVER_FILE), SERVER_IN_SANDBOX),
                    (str(self.programs_dir), PROGRAMS_IN_SANDBOX),
                )
            }
        )
        return [exe, *view.bwrap_args(seccomp_fd=filter_fd), *view.server_cap_args(), "--", *tail]

    def _main(self) -> None:
        filter_fd = seccomp_fd() if self.sandboxed else None
        try:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            extra = () if filter_fd is None else (filter_fd,)
            self._proc = subprocess.Popen(
                self._argv(theirs.fileno(), filter_fd),
                pass_fds=(theirs.fileno(), *extra),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                preexec_fn=_server_preexec,  # noqa: PLW1509 - plain setrlimit/setsid calls
            )
            theirs.close()
            self._sock = ours
        except BaseException as exc:  # noqa: BLE001 - handed to start(), which raises it
            self._start_error = exc
            self._started.set()
            return
        finally:
            if filter_fd is not None:
                os.close(filter_fd)
        self._started.set()
        self._read_replies(ours)

    def _read_replies(self, sock: socket.socket) -> None:
        while True:
            try:
                data = sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            reply = json.loads(data)
            with self._lock:
                fut = self._pending.pop(reply["id"], None)
            if fut is not None:
                fut.set_result(_to_result(reply))
        stderr = b""
        if self._proc is not None:
            try:
                self._proc.kill()
                stderr = self._proc.communicate(timeout=5)[1] or b""
            except (OSError, subprocess.TimeoutExpired):
                pass
        with self._lock:
            pending, self._pending = self._pending, {}
            self._closed = True
        why = stderr.decode(errors="replace").strip()[-2000:] or "it exited"
        for fut in pending.values():
            fut.set_exception(SandboxError(f"the fork server died: {why}"))

    def close(self) -> None:
        with self._lock:
            self._closed = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()

    @property
    def alive(self) -> bool:
        return not self._closed and self._proc is not None and self._proc.poll() is None

    # -- runs -------------------------------------------------------------------------------

    def submit(
        self, program: Program, limits: Limits, fds: tuple[int, int, int], env: dict[str, str]
    ) -> tuple[int, Future[RunResult]]:
        """Start a run; the future resolves when the child has ended and been cleaned up."""
        fut: Future[RunResult] = Future()
        with self._lock:
            if self._closed or self._sock is None:
                raise SandboxError("the fork server is not running")
            self._next_id += 1
            rid = self._next_id
            self._pending[rid] = fut
            path, argv, env = program.path, program.argv, env | program.env
            if not self.sandboxed:  # the programs folder is not mounted at its sandbox path
                host = str(self.programs_dir)
                path = path.replace(PROGRAMS_IN_SANDBOX, host)
                argv = [a.replace(PROGRAMS_IN_SANDBOX, host) for a in argv]
                env = {k: v.replace(PROGRAMS_IN_SANDBOX, host) for k, v in env.items()}
            req = {
                "op": "run",
                "id": rid,
                "mode": program.mode,
                "path": path,
                "argv": argv,
                "env": env,
                "cpu": max(limits.cpu_s, limits.cpu_kill_s or 0.0),
                "wall": limits.wall_s,
                "mem": limits.memory_mb << 20 if program.address_space else 0,
                "procs": limits.processes,
                "fsize": int(max(limits.output_mb, limits.file_mb) * (1 << 20)) + 1,
                "stack": -1 if limits.stack_mb is None else min(limits.stack_mb, limits.memory_mb) << 20,
            }
            self._sock.sendmsg(
                [json.dumps(req).encode()],
                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, bytes(memoryview(_ints(fds))))],
            )
        return rid, fut

    def kill(self, rid: int) -> None:
        with self._lock:
            if self._sock is not None and not self._closed and rid in self._pending:
                self._sock.send(json.dumps({"op": "kill", "id": rid}).encode())

    def run(self, program: Program, limits: Limits, fds: tuple[int, int, int], env: dict[str, str]) -> RunResult:
        return self.submit(program, limits, fds, env)[1].result()


def _ints(fds: tuple[int, ...]) -> bytes:
    import array

    return array.array("i", fds).tobytes()


def _server_preexec() -> None:
    """Give the server a big stack limit so its children can lower it to what they need."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    want = 1 << 30
    if hard == resource.RLIM_INFINITY or hard >= want:
        resource.setrlimit(resource.RLIMIT_STACK, (want, hard))
    os.setsid()


def _to_result(reply: dict[str, Any]) -> RunResult:
    return RunResult(
        exit_code=reply.get("exit"),
        signal=reply.get("signal"),
        cpu_s=reply.get("cpu", 0.0),
        wall_s=reply.get("wall", 0.0),
        max_rss_kb=reply.get("maxrss_kb", 0),
        timed_out=reply.get("timed_out", False),
        killed=reply.get("killed", False),
        error=reply.get("error"),
    )
