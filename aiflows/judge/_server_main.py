"""The warm fork server: runs inside the sandbox and forks one child per program run.

Why: starting a fresh interpreter costs 16-76 ms per test, a fork of a warm one about 1 ms.
The server is started once (inside bubblewrap, as root of its own pid namespace, with only
the capabilities it needs) and forks a child per request. The child puts itself in its own
session, sets the rlimits, drops to a per-slot unprivileged uid (so RLIMIT_NPROC holds and
it cannot signal the server), and then either execs a binary or runs Python source in a
fresh `__main__` namespace. After the child ends, every process left behind by that uid is
killed and the slot's scratch directory is emptied before the slot is reused.

This file uses only the standard library: it is run by path, outside the aiflows package.

Protocol (SOCK_SEQPACKET, one JSON object per datagram):
  -> {"op": "run", "id": N, "mode": "python"|"exec", "path": P, "argv": [...], "env": {...},
      "cpu": s, "wall": s, "mem": bytes (0: none), "procs": n, "fsize": bytes, "stack": bytes (-1: the
      memory limit)}; each run is pinned to one CPU of the server's set (by its slot)
     with three fds (stdin, stdout, stderr) attached as SCM_RIGHTS.
  -> {"op": "kill", "id": N}
  <- {"id": N, "exit": int|null, "signal": int|null, "cpu": s, "wall": s, "maxrss_kb": n,
      "timed_out": bool, "error": str|null}
"""

from __future__ import annotations

import array
import atexit
import builtins
import contextlib
import ctypes
import gc
import importlib
import io
import json
import math
import os
import resource
import selectors
import shutil
import signal
import socket
import sys
import threading
import time
import traceback
import types
from typing import Any

# Imported once by the server, so that children find them loaded (programs commonly use them).
WARM_MODULES = ("bisect", "collections", "functools", "heapq", "itertools", "math", "re", "string")
MAX_MSG = 1 << 16
SANDBOX_TMP = "/tmp"  # inside bubblewrap: the private tmpfs, which the server may make its own
PR_SET_NO_NEW_PRIVS = 38
THREAD_STACK = 16 << 20
CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)


class Job:
    """One running child: its request, slot and deadline."""

    def __init__(self, req: dict[str, Any], pid: int, pidfd: int, slot: int, uid: int, started: float) -> None:
        self.req = req
        self.pid = pid
        self.pidfd = pidfd
        self.slot = slot
        self.uid = uid
        self.started = started
        self.deadline = started + float(req["wall"])
        self.timed_out = False
        self.killed = False


def _recv(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    msg, anc, _flags, _addr = sock.recvmsg(MAX_MSG, socket.CMSG_SPACE(8 * 4))
    fds: list[int] = []
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            arr = array.array("i")
            arr.frombytes(data[: len(data) - (len(data) % arr.itemsize)])
            fds.extend(arr)
    if not msg:
        return None, fds
    return json.loads(msg), fds


def _kill_uid(uid: int) -> None:
    """SIGKILL every live process of `uid`; loop until none is left (fork bombs race us)."""
    for _ in range(200):
        alive = False
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                if os.stat(f"/proc/{name}").st_uid != uid:
                    continue
                with open(f"/proc/{name}/stat", "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if state in (b"Z", b"X"):
                continue
            alive = True
            try:
                os.kill(int(name), signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not alive:
            return
        time.sleep(0.001)


def _kill_group(pgid: int) -> None:
    """Without a uid of its own, a run's leftovers are found by its process group (less sure)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _clean_scratch(path: str) -> None:
    try:
        entries = os.listdir(path)
    except FileNotFoundError:
        entries = None
    if entries:
        shutil.rmtree(path, ignore_errors=True)
        entries = None
    if entries is None:
        os.mkdir(path, 0o700)


def _set_limits(req: dict[str, Any]) -> None:
    cpu = max(1, math.ceil(float(req["cpu"])))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    mem = int(req["mem"])  # 0: no address-space limit (the JVM reserves far more than it uses)
    if mem > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
    resource.setrlimit(resource.RLIMIT_NPROC, (int(req["procs"]), int(req["procs"])))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(req["fsize"]), int(req["fsize"])))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    stack = int(req["stack"])
    if stack < 0:  # the whole memory limit (RLIMIT_AS bounds it); glibc then gives threads 2-8 MiB stacks
        _soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
        resource.setrlimit(resource.RLIMIT_STACK, (hard, hard))
    else:
        resource.setrlimit(resource.RLIMIT_STACK, (stack, stack))
    cpus = sorted(os.sched_getaffinity(0))
    if req.get("cpu_slot") is not None and cpus:  # one CPU per run: timing does not depend on the scheduler
        os.sched_setaffinity(0, {cpus[int(req["cpu_slot"]) % len(cpus)]})


def slot_of(scratch: str) -> int:
    """The run's slot number, from its scratch folder's name (`.../s<slot>`)."""
    return int(os.path.basename(scratch)[1:])


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(Exception):
        print(code, file=sys.stderr)
    return 1


def _run_python(req: dict[str, Any]) -> int:
    """Run the user's Python file as `python3 file` would, in this (forked) interpreter."""
    path = req["path"]
    sys.argv = [path, *req.get("argv", [])[1:]]
    sys.path[0] = os.path.dirname(path)
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(  # type: ignore[misc]
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8", errors="strict"
    )
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(  # type: ignore[misc]
        io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8", errors="strict"
    )
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(  # type: ignore[misc]
        io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
        encoding="utf-8",
        errors="backslashreplace",
        line_buffering=True,
    )
    # glibc sized the default thread stack from the server's (large) stack limit at start-up;
    # give threads the usual size so a program can start many, as under a fresh interpreter.
    threading.stack_size(THREAD_STACK)
    main = types.ModuleType("__main__")
    main.__dict__.update({"__file__": path, "__builtins__": builtins, "__cached__": None})
    sys.modules["__main__"] = main
    rc = 0
    try:
        with open(path, "rb") as fh:
            source = fh.read()
        exec(compile(source, path, "exec"), main.__dict__)  # noqa: S102 - running the submission is the job
    except SystemExit as exc:
        rc = _exit_code(exc)
    except BaseException as exc:  # noqa: BLE001 - an uncaught error ends the program, as in python3
        # the traceback starts at the program, as under a fresh interpreter (this frame is ours)
        traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        rc = 1
    try:
        threading._shutdown()  # type: ignore[attr-defined]  # join non-daemon threads like a normal exit
        atexit._run_exitfuncs()
    except SystemExit as exc:
        rc = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - as in python3: report, exit non-zero
        traceback.print_exc()
        rc = rc or 1
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001
        rc = rc or 120  # what CPython does when flushing stdout fails at exit
    with contextlib.suppress(BaseException):
        sys.stderr.flush()
    return rc


def _child(req: dict[str, Any], fds: list[int], uid: int, scratch: str) -> None:
    """In the forked child: isolate, limit, drop privileges, run. Never returns."""
    rc = 127
    try:
        os.setsid()
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        os.closerange(3, 65536)
        # CPython ignores SIGPIPE; an exec'd program starts with the default. SIGXFSZ stays
        # ignored for all: writing past the file size limit fails (EFBIG), as if truncated.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL if req["mode"] == "exec" else signal.SIG_IGN)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.chdir(scratch)
        os.umask(0o022)
        _set_limits(req | {"cpu_slot": slot_of(scratch)})
        LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no setuid/file-capability gains after exec
        if uid and os.getuid() == 0:
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
        env = req.get("env") or {}
        os.environ.clear()
        os.environ.update(env)
        if req["mode"] == "exec":
            argv = req["argv"] or [req["path"]]
            os.execve(req["path"], argv, env)
        gc.unfreeze()
        rc = _run_python(req)
    except BaseException as exc:  # noqa: BLE001 - a failure to start is the program's RTE, told on stderr
        try:
            os.write(2, f"judge: could not start the program: {exc!r}\n".encode())
        except OSError:
            pass
    os._exit(rc)


class Server:
    """Accepts requests, forks children, reaps them and answers."""

    def __init__(self, sock: socket.socket, uid_base: int, slots: int, scratch_root: str) -> None:
        self.sock = sock
        self.scratch_root = scratch_root
        self.uid_base = uid_base
        self.free = list(range(slots - 1, -1, -1))
        self.jobs: dict[int, Job] = {}  # request id -> job
        self.waiting: list[tuple[dict[str, Any], list[int]]] = []
        self.sel = selectors.DefaultSelector()
        self.sel.register(sock, selectors.EVENT_READ, None)
        os.makedirs(scratch_root, exist_ok=True)
        os.chmod(scratch_root, 0o755)  # only each run's own folder is writable by that run

    def reply(self, payload: dict[str, Any]) -> None:
        self.sock.send(json.dumps(payload).encode())

    def start(self, req: dict[str, Any], fds: list[int]) -> None:
        if not self.free:
            self.waiting.append((req, fds))
            return
        slot = self.free.pop()
        uid = self.uid_base + slot if self.uid_base else 0
        scratch = f"{self.scratch_root}/s{slot}"
        try:
            _clean_scratch(scratch)
            if self.uid_base:
                os.chown(scratch, uid, uid)
        except OSError as exc:
            self.free.append(slot)
            self._close(fds)
            self.reply({"id": req["id"], "error": f"scratch: {exc}"})
            return
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _child(req, fds, uid, scratch)
        self._close(fds)
        pidfd = os.pidfd_open(pid)
        job = Job(req, pid, pidfd, slot, uid, started)
        self.jobs[req["id"]] = job
        self.sel.register(pidfd, selectors.EVENT_READ, job)

    @staticmethod
    def _close(fds: list[int]) -> None:
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def kill(self, job: Job) -> None:
        job.killed = True
        try:
            os.killpg(job.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(job.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def finish(self, job: Job) -> None:
        _pid, status, ru = os.wait4(job.pid, 0)
        wall = time.monotonic() - job.started
        self.sel.unregister(job.pidfd)
        os.close(job.pidfd)
        if job.uid:
            _kill_uid(job.uid)
        else:
            _kill_group(job.pid)
        del self.jobs[job.req["id"]]
        self.free.append(job.slot)
        out = {
            "id": job.req["id"],
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "cpu": ru.ru_utime + ru.ru_stime,
            "wall": wall,
            "maxrss_kb": ru.ru_maxrss,
            "timed_out": job.timed_out,
            "killed": job.killed,
            "error": None,
        }
        self.reply(out)
        if self.waiting:
            req, fds = self.waiting.pop(0)
            self.start(req, fds)

    def serve(self) -> None:
        gc.freeze()  # keep the warm heap shared copy-on-write with every child
        while True:
            now = time.monotonic()
            timeout = min((j.deadline for j in self.jobs.values() if not j.timed_out), default=None)
            events = self.sel.select(None if timeout is None else max(0.0, timeout - now))
            for key, _mask in events:
                if key.data is None:
                    req, fds = _recv(self.sock)
                    if req is None:
                        self.shutdown()
                        return
                    if req["op"] == "run":
                        self.start(req, fds)
                    elif req["op"] == "kill" and req["id"] in self.jobs:
                        self.kill(self.jobs[req["id"]])
                    else:
                        self._close(fds)
                else:
                    self.finish(key.data)
            now = time.monotonic()
            for job in list(self.jobs.values()):
                if not job.timed_out and now >= job.deadline:
                    job.timed_out = True
                    self.kill(job)

    def shutdown(self) -> None:
        for job in list(self.jobs.values()):
            self.kill(job)
            if job.uid:
                _kill_uid(job.uid)


def _unshare_network() -> None:
    """Without bubblewrap, still take the network away (a fresh, empty network namespace)."""
    if LIBC.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        print(f"judge: no network isolation: unshare failed: {os.strerror(err)}", file=sys.stderr, flush=True)


def main() -> None:
    """argv: socket fd, first uid (0: do not switch uid), slots, scratch root, [--unshare-net]."""
    fd, uid_base, slots = (int(x) for x in sys.argv[1:4])
    for name in WARM_MODULES:
        importlib.import_module(name)
    scratch_root = sys.argv[4]
    if "--unshare-net" in sys.argv[5:]:
        _unshare_network()
    sock = socket.socket(fileno=fd)
    sock.set_inheritable(False)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    Server(sock, uid_base, slots, scratch_root).serve()


if __name__ == "__main__":
    main()
