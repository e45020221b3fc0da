"""Hostile programs: each is contained, gets its verdict, and the judge keeps working.

After every hostile run a normal program must still get AC, and no process of the sandbox's
uids may be left on the machine. The same checks run on the warm fork server and on the
fresh-process path.
"""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, Verdict
from aiflows.judge._sandbox import bwrap_works
from aiflows.problems.model import Problem

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here"),
]

UID_BASE = 62000
ECHO = "print(input())\n"


@pytest.fixture(scope="module", params=["fork-server", "fresh-process"])
def hostile_judge(request: pytest.FixtureRequest) -> Iterator[Judge]:
    config = JudgeConfig(jobs=2, uid_base=UID_BASE, fork_server=request.param == "fork-server", processes=32)
    with Judge(config) as judger:
        yield judger


@pytest.fixture
def echo_problem(make_problem) -> Problem:  # type: ignore[no-untyped-def]
    return make_problem([("hello\n", "hello\n"), ("secret-data-42\n", "secret-data-42\n")], time_limit=0.5)


def _sandbox_processes() -> list[str]:
    """Processes on this machine that run as one of the judge's sandbox uids."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                uid = os.stat(f"/proc/{name}").st_uid
                with open(f"/proc/{name}/stat", "rb") as fh:
                    state = fh.read().rsplit(b")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            if UID_BASE <= uid < UID_BASE + 200 and state not in (b"Z", b"X"):
                found.append(name)
    return found


def _still_works(judger: Judge, problem: Problem) -> None:
    assert judger.judge(problem, ECHO, "python").verdict == Verdict.AC
    deadline = time.monotonic() + 5
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sandbox_processes() == [], "a sandboxed process outlived its run"


def _judge(judger: Judge, problem: Problem, code: str, language: str = "python") -> Verdict:
    return judger.judge(problem, textwrap.dedent(code), language).verdict


def test_fork_bomb_is_contained(hostile_judge: Judge, echo_problem: Problem) -> None:
    code = """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    assert _judge(hostile_judge, echo_problem, code) in (Verdict.TLE, Verdict.RTE)
    _still_works(hostile_judge, echo_problem)


def test_c_fork_bomb_is_contained(hostile_judge: Judge, echo_problem: Problem) -> None:
    code = "#include <unistd.h>\nint main(void) { for (;;) fork(); }\n"
    assert _judge(hostile_judge, echo_problem, code, "c") in (Verdict.TLE, Verdict.RTE)
    _still_works(hostile_judge, echo_problem)


def test_memory_bomb_gets_rte_that_hit_the_memory_limit(hostile_judge: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], memory_limit_mb=256)
    code = """
        chunks = []
        while True:
            chunks.append(bytearray(10 ** 7))
    """
    judgement = hostile_judge.judge(problem, textwrap.dedent(code), "python")
    assert judgement.verdict == Verdict.RTE  # as Kattis reports it
    assert judgement.memory_limit_hit and judgement.agrees_with("MLE")
    assert "memory limit" in judgement.first_failure.message  # type: ignore[union-attr]
    _still_works(hostile_judge, problem)


def test_infinite_loop_gets_tle(hostile_judge: Judge, echo_problem: Problem) -> None:
    judgement = hostile_judge.judge(echo_problem, "while True:\n    pass\n", "python")
    assert judgement.verdict == Verdict.TLE
    assert "limit is 0.5 s CPU" in judgement.first_failure.message  # type: ignore[union-attr]
    _still_works(hostile_judge, echo_problem)


def test_busy_threads_get_tle(hostile_judge: Judge, echo_problem: Problem) -> None:
    code = """
        import threading
        def spin():
            while True:
                pass
        for _ in range(8):
            threading.Thread(target=spin, daemon=True).start()
        spin()
    """
    assert _judge(hostile_judge, echo_problem, code) == Verdict.TLE
    _still_works(hostile_judge, echo_problem)


def test_sleeping_program_gets_tle_by_wall_clock(hostile_judge: Judge, echo_problem: Problem) -> None:
    judgement = hostile_judge.judge(echo_problem, "import time\ntime.sleep(60)\n", "python")
    assert judgement.verdict == Verdict.TLE
    assert judgement.tests[0].wall_s < 10
    _still_works(hostile_judge, echo_problem)


def test_huge_output_gets_ole(hostile_judge: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], output_limit_mb=1)
    code = """
        import sys
        while True:
            sys.stdout.write("x" * 100000)
    """
    assert _judge(hostile_judge, problem, code) == Verdict.OLE
    _still_works(hostile_judge, problem)


def test_network_is_unreachable(hostile_judge: Judge, echo_problem: Problem) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[object] = []
    listener.settimeout(5)

    def serve() -> None:
        try:
            accepted.append(listener.accept())
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    code = f"""
        import socket
        results = []
        for host in ("127.0.0.1", "1.1.1.1"):
            try:
                socket.create_connection((host, {port}), timeout=2)
                results.append("connected")
            except OSError:
                results.append("blocked")
        print(input() if results == ["blocked", "blocked"] else results)
    """
    assert _judge(hostile_judge, echo_problem, code) == Verdict.AC
    listener.close()
    thread.join()
    assert not accepted, "the sandboxed program reached a server on the judge's loopback"
    _still_works(hostile_judge, echo_problem)


def test_cannot_write_outside_scratch(hostile_judge: Judge, echo_problem: Problem, tmp_path: Path) -> None:
    # /tmp inside is the run's private tmpfs: writing there is allowed, it must not reach the host's
    targets = ["/tmp/escaped", "/escaped", "/etc/escaped", "/usr/escaped", str(tmp_path / "escaped"), "/root/escaped"]
    code = f"""
        import os
        escaped = []
        for path in {targets!r}:
            try:
                with open(path, "w") as fh:
                    fh.write("x")
                escaped.append(path)
            except OSError:
                pass
        with open("scratch.txt", "w") as fh:  # the working directory is the private scratch
            fh.write("fine")
        print(input() if escaped in ([], ["/tmp/escaped"]) else escaped)
    """
    assert _judge(hostile_judge, echo_problem, code) == Verdict.AC
    for target in targets:
        assert not Path(target).exists()
    _still_works(hostile_judge, echo_problem)


def test_cannot_read_answers_or_other_tests(hostile_judge: Judge, echo_problem: Problem) -> None:
    secret = echo_problem.tests[1]
    paths = [str(secret.answer_path), str(secret.input_path), str(echo_problem.root), "/work", "/home"]
    code = f"""
        import os
        seen = []
        for path in {paths!r}:
            try:
                if os.path.isdir(path):
                    seen.append((path, os.listdir(path)))
                else:
                    with open(path) as fh:
                        seen.append((path, fh.read()))
            except OSError:
                pass
        print(input() if not any(s[1] for s in seen) else seen)
    """
    judgement = hostile_judge.judge(echo_problem, textwrap.dedent(code), "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    _still_works(hostile_judge, echo_problem)


def test_killing_the_judge_fails(hostile_judge: Judge, echo_problem: Problem) -> None:
    code = """
        import os, signal
        for target in (os.getppid(), 1):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        print(input())
    """
    assert _judge(hostile_judge, echo_problem, code) == Verdict.AC
    _still_works(hostile_judge, echo_problem)


def test_kill_minus_one_reaches_only_the_program(hostile_judge: Judge, echo_problem: Problem) -> None:
    # kill(-1) signals every process the caller may signal except itself: its own uid only.
    c_code = """
        #include <signal.h>
        #include <stdio.h>
        #include <unistd.h>
        int main(void) {
            if (fork() == 0) { pause(); return 0; }
            kill(-1, SIGKILL);
            char line[100];
            if (fgets(line, sizeof line, stdin)) fputs(line, stdout);
            return 0;
        }
    """
    assert _judge(hostile_judge, echo_problem, c_code, "c") == Verdict.AC
    # `kill -9 -1` from a shell kills the program that started the shell: a run-time error
    assert _judge(hostile_judge, echo_problem, "import os\nos.system('kill -9 -1')\nprint(input())\n") == Verdict.RTE
    _still_works(hostile_judge, echo_problem)


def test_background_processes_are_killed(hostile_judge: Judge, echo_problem: Problem) -> None:
    code = """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(300)
            os._exit(0)
        print(input())
    """
    assert _judge(hostile_judge, echo_problem, code) == Verdict.AC
    _still_works(hostile_judge, echo_problem)


def test_c_output_flood(hostile_judge: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("x\n", "x\n")], output_limit_mb=1, time_limit=0.5)
    line = '"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\n"'
    too_much = f"#include <stdio.h>\nint main(void) {{ for (int i = 0; i < 100000; i++) fputs({line}, stdout); }}\n"
    assert _judge(hostile_judge, problem, too_much, "c") == Verdict.OLE
    # flooding forever: writes past the file size limit fail, the program runs on, TLE (as DOMjudge)
    forever = f"#include <stdio.h>\nint main(void) {{ for (;;) fputs({line}, stdout); }}\n"
    assert _judge(hostile_judge, problem, forever, "c") == Verdict.TLE
    _still_works(hostile_judge, problem)


def test_data_inside_a_visible_path_is_hidden(make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the sandbox is told to show tmp_path (say, a shared tools folder) and the problem lies in it
    problem = make_problem([("1\n", "secret-answer\n")])
    (tmp_path / "visible.txt").write_text("tools\n")
    for path in (tmp_path, *tmp_path.rglob("*")):  # readable by anyone: only hiding can protect it
        path.chmod(0o755 if path.is_dir() else 0o644)
    answer = problem.tests[0].answer_path
    code = f"""
        import os
        try:
            open({str(answer)!r}).read()
            print("leaked")
        except OSError:
            print(open({str(tmp_path / "visible.txt")!r}).read().strip())
    """
    with Judge(JudgeConfig(jobs=1, uid_base=UID_BASE, extra_ro_paths=(str(tmp_path),))) as judger:
        judgement = judger.judge(problem, textwrap.dedent(code), "python")
    assert judgement.first_failure is not None
    assert judgement.first_failure.got_excerpt.strip() == "tools"
