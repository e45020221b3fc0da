"""The interactor's side of an interactive test: who ended first, and ending it cleanly.

Kept apart from `_testrun` (which decides verdicts) because it is process plumbing: a pidfd to
ask whether the interactor has exited without reaping it, a reader that keeps its pipe open,
and a bounded wait that kills it (and the sandbox it runs in) when it hangs.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading

from aiflows.judge._executor import RunHandle
from aiflows.judge._models import Limits, RunResult
from aiflows.judge._validator_sandbox import kill
from aiflows.judge._validators import ACCEPT

__all__ = ["Interactor", "drain", "race", "reap", "reap_wait_s"]

EXIT_GRACE_S = 1.0


class Interactor:
    """The interactor's process, watched through a pidfd: whether it has exited can be asked
    without reaping it (Popen.poll() cannot tell while another thread waits on it)."""

    def __init__(self, process: subprocess.Popen[bytes], wake: threading.Event) -> None:
        self.process = process
        self.pidfd = os.pidfd_open(process.pid)
        self._watcher = threading.Thread(target=self._watch, args=(wake,), daemon=True, name="aiflows-judge-interactor")
        self._watcher.start()

    def _watch(self, wake: threading.Event) -> None:
        select.select([self.pidfd], [], [])
        wake.set()

    def exited(self) -> bool:
        return bool(select.select([self.pidfd], [], [], 0)[0])

    def close(self) -> None:
        """After the process has ended (the caller reaps it first)."""
        self._watcher.join()
        os.close(self.pidfd)


def race(handle: RunHandle, validator: subprocess.Popen[bytes]) -> tuple[bool, RunResult]:
    """Wait for the program; tell whether the interactor ended first, and stop the program if the
    interactor rejected it while it still ran.

    "First" is decided without clocks: the interactor cannot see the program's EOF before the
    judge closes its copy of the pipe (after this returns), so an interactor that has exited by
    the time the program's end is known decided on its own. A program killed by SIGPIPE ended
    because the interactor had, so the interactor counts as first then too.
    """
    done = threading.Event()
    handle.future.add_done_callback(lambda _f: done.set())
    interactor = Interactor(validator, done)
    try:
        done.wait()
        if not handle.future.done() and interactor.exited() and validator.wait() != ACCEPT:
            handle.kill()  # the interactor has given its verdict; the program need not run on
        run = handle.future.result()
        if not run.ok and not interactor.exited():
            # A sandboxed interactor is a bwrap process that ends a moment after the interactor
            # in it: a program that failed because the interactor left (broken pipe) must not
            # win that race. Only failed runs wait, and at most EXIT_GRACE_S.
            select.select([interactor.pidfd], [], [], EXIT_GRACE_S)
        return interactor.exited() or run.signal == signal.SIGPIPE, run
    finally:
        if interactor.exited():
            interactor.close()
        else:  # it still runs: the caller closes its input, then reaps (or kills) it
            threading.Thread(target=_close_later, args=(interactor,), daemon=True).start()


def _close_later(interactor: Interactor) -> None:
    interactor.process.wait()
    interactor.close()


def drain(fd: int) -> None:
    try:
        while os.read(fd, 1 << 16):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def reap_wait_s(limits: Limits) -> float:
    """How long an interactor may run on once the program has ended and its pipes are closed."""
    return max(10.0, limits.wall_s * 2)


def reap(validator: subprocess.Popen[bytes], limits: Limits) -> bool:
    """Wait for the interactor to end; True when it hung (did not exit within `reap_wait_s`
    of the program's end, its input closed) and was killed: the package is at fault then."""
    try:
        validator.wait(timeout=reap_wait_s(limits))
        return False
    except subprocess.TimeoutExpired:
        kill(validator)
        validator.wait()
        return True
