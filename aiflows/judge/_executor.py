"""Where programs run: the warm fork server when it can start, fresh sandboxes otherwise.

One executor serves a whole `Judge`: the sandbox view does not depend on the problem (test
data is never bound in), so one warm server runs every Python program and compiled binary.
A problem stored inside a visible system path gets its own server with that path hidden.

There is no silent fallback: without a working bubblewrap the executor refuses to start
unless the caller asked for `sandbox="none"` in so many words.
"""

from __future__ import annotations

import logging
import os
import queue
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from aiflows.judge._direct import run_direct
from aiflows.judge._errors import SandboxError
from aiflows.judge._forkserver import PROGRAMS_IN_SANDBOX, ForkServer, Program
from aiflows.judge._models import Limits, RunResult
from aiflows.judge._sandbox import (
    SandboxView,
    bwrap_problem,
    others_can_run,
    python_executable,
)

__all__ = ["Executor", "RunHandle"]

log = logging.getLogger("aiflows.judge")

COMPILE_UID = 70  # offsets from JudgeConfig.uid_base (jobs <= 64)
SERVER_UIDS = 100
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "HOME": "/tmp"}


class RunHandle:
    """A run in flight: its future result and a way to stop it early."""

    def __init__(self, future: Future[RunResult], server: ForkServer | None, rid: int) -> None:
        self.future = future
        self._server = server
        self._rid = rid

    def kill(self) -> None:
        if self._server is not None:
            self._server.kill(self._rid)


class Executor:
    """Runs programs under limits, `jobs` at a time.

    `mode`: "auto" or "bwrap" (bubblewrap, or `SandboxError` saying how to get it), "none"
    (no filesystem isolation: only rlimits, a uid of its own and, as root, no network).
    """

    def __init__(
        self, programs_dir: Path, *, jobs: int, mode: str, fork_server: bool, uid_base: int, view: SandboxView
    ) -> None:
        self.programs_dir = programs_dir
        self.jobs = jobs
        self.uid_base = uid_base
        self.fork_server = fork_server
        self.base_view = view
        self.sandboxed = self._decide(mode)
        # Each run gets its own unprivileged uid, so that RLIMIT_NPROC holds (root ignores it) and
        # it cannot signal the judge. Outside bubblewrap that uid must be able to run Python.
        self.drop_uid = os.geteuid() == 0 and (self.sandboxed or others_can_run(python_executable()))
        if os.geteuid() == 0 and not self.drop_uid:
            log.warning(
                "programs run as root: %s is not reachable by other users, so there is no per-run uid and "
                "no process-count limit",
                python_executable(),
            )
        self.slots = threading.BoundedSemaphore(jobs)
        self._servers: dict[tuple[str, ...], ForkServer] = {}
        self._lock = threading.Lock()
        # uids: fresh-process runs uid_base + 0..jobs, compiles uid_base + COMPILE_UID, fork server k
        # uid_base + SERVER_UIDS + 64 k + slot; no two runs at once ever share one.
        self._direct_uids: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(jobs + 1):
            self._direct_uids.put(uid_base + i)
        self._threads = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="aiflows-judge-run")
        self.compile_uid = uid_base + COMPILE_UID if self.drop_uid else None
        # Without a uid of their own, runs share RLIMIT_NPROC with every process of this user:
        # count those once and allow them on top of the limit, or nothing could start.
        self.shared_processes = 0 if self.drop_uid or os.geteuid() == 0 else _count_processes(os.getuid()) + 64

    @staticmethod
    def _decide(mode: str) -> bool:
        if mode not in ("auto", "bwrap", "none"):
            raise ValueError(f"sandbox mode must be auto, bwrap or none, not {mode!r}")
        if mode == "none":
            log.warning(
                "judge sandbox disabled: programs see the whole filesystem (answer files included); only "
                "rlimits, a separate uid and (as root) an empty network namespace remain"
            )
            return False
        problem = bwrap_problem()
        if problem is None:
            return True
        raise SandboxError(
            f"{problem}. The judge will not run programs without isolation. Install bubblewrap "
            "(`apt-get install bubblewrap` on Debian/Ubuntu, `dnf install bubblewrap` on Fedora) and allow "
            "it to create namespaces, or, to judge with no filesystem isolation at all (programs then see "
            "every file their uid may read, answer files included), pass `--sandbox none` "
            "(JudgeConfig(sandbox='none'))"
        )

    @property
    def view(self) -> SandboxView | None:
        return self.base_view if self.sandboxed else None

    def compile_view(self, hidden: tuple[str, ...]) -> SandboxView | None:
        """What the compiler sees: what programs see (the same data hidden), or None unsandboxed."""
        return self.view_hiding(hidden) if self.sandboxed else None

    def view_hiding(self, hidden: tuple[str, ...]) -> SandboxView:
        return self.base_view.model_copy(update={"hidden": (*self.base_view.hidden, *hidden)})

    def _server(self, hidden: tuple[str, ...]) -> ForkServer | None:
        if not self.fork_server:
            return None
        with self._lock:
            server = self._servers.get(hidden)
            if server is not None and server.alive:
                return server
            if server is not None:
                log.warning("the judge's fork server died; starting a new one")
            server = ForkServer(
                self.programs_dir,
                self.view_hiding(hidden),
                sandboxed=self.sandboxed,
                scratch_dir=self.programs_dir.parent / "scratch",
                slots=self.jobs,
                uid_base=self.uid_base + SERVER_UIDS + 64 * len(self._servers) if self.drop_uid else 0,
            )
            try:
                server.start()
            except SandboxError as exc:
                log.warning("fork server unavailable (%s); using a fresh process per run", exc)
                self.fork_server = False
                return None
            self._servers[hidden] = server
            return server

    def submit(
        self, program: Program, limits: Limits, fds: tuple[int, int, int], hidden: tuple[str, ...] = ()
    ) -> RunHandle:
        """Start a run; the caller holds one of `self.slots` for its duration."""
        if self.shared_processes:
            limits = limits.model_copy(update={"processes": limits.processes + self.shared_processes})
        server = self._server(hidden)
        if server is not None:
            try:
                rid, fut = server.submit(program, limits, fds, CHILD_ENV)
                return RunHandle(fut, server, rid)
            except (SandboxError, OSError) as exc:
                log.warning("fork server failed (%s); retrying with a fresh one", exc)
                server = self._server(hidden)
                if server is not None:
                    rid, fut = server.submit(program, limits, fds, CHILD_ENV)
                    return RunHandle(fut, server, rid)
        dup = tuple(os.dup(fd) for fd in fds)  # the caller may close its fds before the thread starts
        return RunHandle(self._threads.submit(self._direct, program, limits, dup, hidden), None, 0)

    def _direct(self, program: Program, limits: Limits, fds: tuple[int, ...], hidden: tuple[str, ...]) -> RunResult:
        uid = self._direct_uids.get()
        try:
            scratch = self.programs_dir.parent / "scratch" / f"d{uid}"
            view = None
            path = program.path.replace(PROGRAMS_IN_SANDBOX, str(self.programs_dir))
            if self.sandboxed:
                # only the run's own program folder: the others hold other submissions' code
                folder = program.folder
                own = () if folder is None else ((str(self.programs_dir / folder), program.folder_in_sandbox),)
                view = self.view_hiding(hidden).model_copy(update={"ro_binds": own})
                path = program.path
            rest = [
                a if self.sandboxed else a.replace(PROGRAMS_IN_SANDBOX, str(self.programs_dir))
                for a in program.argv[1:]
            ]
            argv = [python_executable(), path] if program.mode == "python" else [path, *rest]
            if view is None:  # unsandboxed: a scratch folder of the run's own on the host
                shutil.rmtree(scratch, ignore_errors=True)
                scratch.mkdir(parents=True)
                if self.drop_uid:
                    os.chown(scratch, uid, uid)
            env = CHILD_ENV | program.env
            if not self.sandboxed:
                env = {k: v.replace(PROGRAMS_IN_SANDBOX, str(self.programs_dir)) for k, v in env.items()}
            cpus = sorted(os.sched_getaffinity(0))
            return run_direct(
                argv,
                limits,
                stdin=fds[0],
                stdout=fds[1],
                stderr=fds[2],
                view=view,
                uid=uid if self.drop_uid else None,
                env=env,
                cwd="/tmp" if view is not None else str(scratch),
                address_space=program.address_space,
                cpu_id=cpus[(uid - self.uid_base) % len(cpus)] if cpus else None,
            )
        finally:
            for fd in fds:
                os.close(fd)
            self._direct_uids.put(uid)

    def close(self) -> None:
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.close()
        self._threads.shutdown(wait=True)


def _count_processes(uid: int) -> int:
    count = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                count += os.stat(f"/proc/{name}").st_uid == uid
            except OSError:
                pass
    return count
