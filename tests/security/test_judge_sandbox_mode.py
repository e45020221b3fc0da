"""Attacks on how the judge isolates programs: a missing or broken bubblewrap, and the kernel
calls a program inside the sandbox could use to get out of it (ptrace, new namespaces, ...).

`aiflows judge --sandbox auto` is run for real in a subprocess whose PATH has no bubblewrap (or
a bubblewrap that cannot start); the submission would leave a marker file on the host if it
ran. The seccomp test compiles and runs a real C program inside the sandbox.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, Verdict
from aiflows.judge._sandbox import bwrap_works
from aiflows.problems.model import Problem
from aiflows.problems.model import TestCase as Case

REPO = Path(__file__).resolve().parents[2]


def _package(root: Path) -> Path:
    (root / "data" / "sample").mkdir(parents=True)
    (root / "problem.yaml").write_text("name: Echo\n")
    (root / "data" / "sample" / "1.in").write_text("hi\n")
    (root / "data" / "sample" / "1.ans").write_text("hi\n")
    return root


def _marking_submission(tmp_path: Path) -> tuple[Path, Path]:
    """A submission that, if it ever runs on the host unisolated, writes a marker file."""
    marker = tmp_path / "ran-unisolated"
    source = tmp_path / "sol.py"
    source.write_text(f"open({str(marker)!r}, 'w').write('x')\nprint(input())\n")
    return source, marker


def _judge_cli(tmp_path: Path, source: Path, sandbox: str, path_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": str(path_dir)}
    argv = [sys.executable, "-m", "aiflows.cli.judge", str(_package(tmp_path / "echo")), str(source)]
    return subprocess.run(
        [*argv, "--sandbox", sandbox, "--json", "-j", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.fixture(params=["missing", "broken"])
def bad_bwrap_path(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A PATH folder with no bwrap, or with a bwrap that fails as in a container without namespaces."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if request.param == "broken":
        fake = folder / "bwrap"
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
        fake.chmod(0o755)
    return folder


def _work_folders() -> set[Path]:
    return {
        p
        for where in (Path("/dev/shm"), Path(os.environ.get("TMPDIR", "/tmp")))
        if where.is_dir()
        for p in where.glob("aiflows-judge-*")
    }


def test_auto_refuses_to_run_without_bubblewrap(tmp_path: Path, bad_bwrap_path: Path) -> None:
    source, marker = _marking_submission(tmp_path)
    before = _work_folders()
    done = _judge_cli(tmp_path, source, "auto", bad_bwrap_path)
    assert _work_folders() <= before, "the refused judge left its work folder behind"
    assert done.returncode == 1, done.stdout + done.stderr
    assert "SandboxError: bubblewrap (bwrap) is not installed" in done.stderr or (
        "SandboxError: bubblewrap" in done.stderr and "cannot create the sandbox's namespaces" in done.stderr
    ), done.stderr
    assert "apt-get install bubblewrap" in done.stderr
    assert "--sandbox none" in done.stderr
    assert not marker.exists(), "the submission ran without isolation"


def test_explicit_none_runs_and_says_so_in_the_json(tmp_path: Path, bad_bwrap_path: Path) -> None:
    source, marker = _marking_submission(tmp_path)
    done = _judge_cli(tmp_path, source, "none", bad_bwrap_path)
    assert done.returncode == 0, done.stderr
    verdict = json.loads(done.stdout)
    assert verdict["verdict"] == "AC"
    assert verdict["sandbox"] == "none"
    assert marker.exists()  # what "none" means: the program reached the host's files


DENIED_CALLS = r"""
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char *what, long rc) {
    printf("%s %s\n", what, rc == -1 && errno == EPERM ? "denied" : "ALLOWED");
    errno = 0;
}
static void *thread_main(void *arg) { return arg; }

int main(void) {
    report("ptrace", ptrace(PTRACE_TRACEME, 0, 0, 0));
    report("unshare-user", unshare(CLONE_NEWUSER));
    report("unshare-mount", unshare(CLONE_NEWNS));
    report("clone-newuser", syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
    report("mount", mount("none", "/tmp", "tmpfs", 0, 0));
    report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
    report("bpf", syscall(SYS_bpf, BPF_PROG_LOAD, 0, 0));
    report("perf_event_open", syscall(SYS_perf_event_open, 0, 0, -1, -1, 0));
    pthread_t t;  /* threads still start: clone3 says ENOSYS and the C library falls back to clone */
    printf("thread %s\n", pthread_create(&t, 0, thread_main, 0) == 0 && pthread_join(t, 0) == 0 ? "ok" : "FAILED");
    return 0;
}
"""
CALLS = ("ptrace", "unshare-user", "unshare-mount", "clone-newuser", "mount", "keyctl", "bpf", "perf_event_open")
EXPECTED = "".join(f"{c} denied\n" for c in CALLS) + "thread ok\n"


@pytest.fixture(scope="module", params=["fork-server", "fresh-process"])
def judger(request: pytest.FixtureRequest) -> Iterator[Judge]:
    with Judge(JudgeConfig(jobs=1, uid_base=63500, fork_server=request.param == "fork-server")) as j:
        yield j


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here")
def test_seccomp_denies_escape_calls(judger: Judge, tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "1.in").write_text("")
    (tmp_path / "p" / "1.ans").write_text(EXPECTED)
    folder = tmp_path / "p"
    test = Case(name="sample/1", input_path=folder / "1.in", answer_path=folder / "1.ans", is_sample=True)
    problem = Problem(root=tmp_path / "p", id="calls", title="calls", time_limit=1.0, tests=[test])
    judgement = judger.judge(problem, textwrap.dedent(DENIED_CALLS), "c")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    assert judgement.sandbox == "bwrap"
