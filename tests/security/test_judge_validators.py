"""A problem package's validators are problem code, and a package can come from anyone.

Each test here is an attack by a hostile package: its output validator, interactor, Code Jam
judge or build script tries to write outside its feedback folder, read another problem's
secret answer or a file in the user's home, or reach the network. The judge must run it in
the sandbox: the attempts fail (the validator reports what it saw), no marker file appears
on the host, the listening socket hears nothing, and a legitimate verdict still comes out.
"""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, ValidatorError, Verdict
from aiflows.judge._sandbox import seccomp_fd
from aiflows.problems.model import Problem
from aiflows.problems.model import TestCase as Case

pytestmark = pytest.mark.slow

OTHER_SECRET = "OTHER-PROBLEM-ANSWER-5d1f0c"
HOME_SECRET = "USER-HOME-SECRET-a83b72"
ATTACKS = ("write_problem", "read_other", "read_home", "net")


@dataclass
class Targets:
    """What a hostile validator goes after, by the host paths its author would guess."""

    problem_marker: Path  # a file it would create in its own problem folder
    tmp_marker: Path  # ... and in the host's /tmp
    other_answer: Path  # another problem's secret answer
    home_file: Path  # a file in the user's home
    port: int  # a socket listening on the host's loopback
    connections: list[str]


@pytest.fixture(scope="module")
def judger() -> Iterator[Judge]:
    with Judge(JudgeConfig(jobs=2, time_limit_cap=2.0)) as j:
        yield j


@pytest.fixture
def targets(tmp_path: Path) -> Iterator[Targets]:
    other = tmp_path / "other-problem" / "data" / "secret"
    other.mkdir(parents=True)
    (other / "1.ans").write_text(OTHER_SECRET + "\n")
    home_file = Path.home() / f".aiflows-validator-attack-{uuid.uuid4().hex}"
    home_file.write_text(HOME_SECRET + "\n")
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    heard: list[str] = []
    stop = threading.Event()

    def listen() -> None:
        while not stop.is_set():
            try:
                conn, addr = server.accept()
            except TimeoutError:
                continue
            heard.append(str(addr))
            conn.close()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    tmp_marker_name = f"aiflows-validator-was-here-{uuid.uuid4().hex}"
    try:
        yield Targets(
            problem_marker=tmp_path / "prob" / "validator-was-here",
            tmp_marker=Path("/tmp", tmp_marker_name),
            other_answer=other / "1.ans",
            home_file=home_file,
            port=server.getsockname()[1],
            connections=heard,
        )
    finally:
        stop.set()
        thread.join()
        server.close()
        home_file.unlink(missing_ok=True)
        Path("/tmp", tmp_marker_name).unlink(missing_ok=True)  # left only if an attack worked


def python_attacks(t: Targets) -> str:
    """Python source that tries every attack and leaves `REPORT`, a line saying how each went."""
    return textwrap.dedent(
        f"""
        import os, socket
        report = ["uid=%d" % os.getuid()]
        def attempt(name, action):
            try:
                action()
                report.append(name + "=done")
            except Exception as exc:
                report.append(name + "=refused:" + type(exc).__name__)
        def read(path):
            report.append("leak:" + open(path).read().strip())
        attempt("write_problem", lambda: open({str(t.problem_marker)!r}, "w").write("pwned"))
        attempt("write_tmp", lambda: open({str(t.tmp_marker)!r}, "w").write("pwned"))
        attempt("read_other", lambda: read({str(t.other_answer)!r}))
        attempt("read_home", lambda: read({str(t.home_file)!r}))
        attempt("net", lambda: socket.create_connection(("127.0.0.1", {t.port}), timeout=3).close())
        def user_namespace():
            import ctypes
            if ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:  # CLONE_NEWUSER
                raise OSError(ctypes.get_errno(), "unshare")
        attempt("userns", user_namespace)
        REPORT = " ".join(report)
        """
    )


def cpp_attacks(t: Targets) -> str:
    """The same attacks in C++: `report` holds how each went."""
    return textwrap.dedent(
        f"""
        #include <arpa/inet.h>
        #include <cerrno>
        #include <cstdio>
        #include <cstring>
        #include <fstream>
        #include <sstream>
        #include <string>
        #include <sys/socket.h>
        #include <unistd.h>
        static std::string report;
        static void note(const char *name, bool ok) {{
            report += std::string(" ") + name + (ok ? "=done" : std::string("=refused:") + strerror(errno));
        }}
        static void attack() {{
            report = "uid=" + std::to_string(getuid());
            FILE *f = fopen("{t.problem_marker}", "w");
            note("write_problem", f != nullptr);
            if (f) {{ fputs("pwned", f); fclose(f); }}
            f = fopen("{t.tmp_marker}", "w");
            note("write_tmp", f != nullptr);
            if (f) {{ fputs("pwned", f); fclose(f); }}
            const char *reads[][2] = {{{{"read_other", "{t.other_answer}"}}, {{"read_home", "{t.home_file}"}}}};
            for (auto &r : reads) {{
                std::ifstream in(r[1]);
                note(r[0], in.good());
                if (in.good()) {{ std::stringstream s; s << in.rdbuf(); report += " leak:" + s.str(); }}
            }}
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr{{}};
            addr.sin_family = AF_INET;
            addr.sin_port = htons({t.port});
            addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            note("net", fd >= 0 && connect(fd, (sockaddr *)&addr, sizeof addr) == 0);
        }}
        """
    )


def kattis_python_validator(t: Targets) -> str:
    return python_attacks(t) + textwrap.dedent(
        """
        import sys
        open(sys.argv[3] + "/judgemessage.txt", "w").write(REPORT)
        want = open(sys.argv[2]).read().split()
        sys.exit(42 if sys.stdin.read().split() == want else 43)
        """
    )


def kattis_cpp_validator(t: Targets) -> str:
    return cpp_attacks(t) + textwrap.dedent(
        """
        #include <iostream>
        int main(int argc, char **argv) {
            attack();
            std::ofstream(std::string(argv[3]) + "/judgemessage.txt") << report;
            std::string want, got;
            std::ifstream(argv[2]) >> want;
            std::cin >> got;
            return want == got ? 42 : 43;
        }
        """
    )


def problem_with(root: Path, files: dict[str, str], tests: list[tuple[str, str]], **fields: object) -> Problem:
    """A package on disk: the first test a sample, the rest secret, and `files` as its validator."""
    folder = root / "output_validators" / "v"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
        if name in ("build", "run"):
            (folder / name).chmod(0o755)
    cases = []
    for i, (given, wanted) in enumerate(tests):
        group = "sample" if i == 0 else "secret"
        (root / "data" / group).mkdir(parents=True, exist_ok=True)
        (root / "data" / group / f"{i}.in").write_text(given)
        (root / "data" / group / f"{i}.ans").write_text(wanted)
        inp, ans = root / "data" / group / f"{i}.in", root / "data" / group / f"{i}.ans"
        cases.append(Case(name=f"{group}/{i}", input_path=inp, answer_path=ans, is_sample=i == 0))
    fields.setdefault("validation", "custom")
    return Problem(
        id="prob", title="hostile", root=root, tests=cases, time_limit=1.0, output_validator=folder, **fields
    )  # type: ignore[arg-type]


def assert_contained(t: Targets, said: str) -> None:
    """Every attack failed, as the validator saw it and as the host shows it."""
    attacks = ATTACKS + ("userns",) if "userns=" in said and seccomp_fd_available() else ATTACKS
    for attack in attacks:
        assert f"{attack}=refused" in said, f"{attack} was not refused; the validator reported: {said}"
    assert OTHER_SECRET not in said and HOME_SECRET not in said, said
    if os.geteuid() == 0:
        assert "uid=0" not in said, f"the validator ran as root: {said}"
    assert not t.problem_marker.exists(), "the validator wrote into the problem folder"
    assert not t.tmp_marker.exists(), "the validator wrote into the host's /tmp"
    assert t.connections == [], f"the validator reached the host's network: {t.connections}"


ECHO = "print(input())\n"


def seccomp_fd_available() -> bool:
    """Where bwrap can load the system-call filter, a validator cannot make new namespaces."""
    fd = seccomp_fd()
    if fd is None:
        return False
    os.close(fd)
    return True


@pytest.mark.parametrize("language", ["python", "cpp"])
def test_output_validator_is_contained_and_still_judges(
    judger: Judge, targets: Targets, tmp_path: Path, language: str
) -> None:
    files = (
        {"validate.py": kattis_python_validator(targets)}
        if language == "python"
        else {"validate.cpp": kattis_cpp_validator(targets)}
    )
    problem = problem_with(tmp_path / "prob", files, [("41\n", "41\n"), ("42\n", "42\n")])
    judgement = judger.judge(problem, ECHO, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    assert_contained(targets, judgement.tests[0].validator_feedback)
    wrong = judger.judge(problem, "print(7)\n", "python")
    assert wrong.verdict == Verdict.WA, wrong.feedback()
    assert_contained(targets, wrong.tests[0].validator_feedback)


def test_interactor_is_contained_and_still_judges(judger: Judge, targets: Targets, tmp_path: Path) -> None:
    interactor = python_attacks(targets) + textwrap.dedent(
        """
        import sys
        open(sys.argv[3] + "/judgemessage.txt", "w").write(REPORT)
        secret = int(open(sys.argv[1]).read())
        for _ in range(12):
            guess = int(sys.stdin.readline())
            if guess == secret:
                print("correct", flush=True)
                sys.exit(42)
            print("lower" if guess > secret else "higher", flush=True)
        sys.exit(43)
        """
    )
    solution = textwrap.dedent(
        """
        lo, hi = 1, 1000
        while True:
            mid = (lo + hi) // 2
            print(mid, flush=True)
            reply = input()
            if reply == "correct":
                break
            lo, hi = (lo, mid - 1) if reply == "lower" else (mid + 1, hi)
        """
    )
    problem = problem_with(
        tmp_path / "prob", {"interactor.py": interactor}, [("500\n", ""), ("37\n", "")], validation="custom-interactive"
    )
    judgement = judger.judge(problem, solution, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    for test in judgement.tests:
        assert_contained(targets, test.validator_feedback)
    giving_up = judger.judge(problem, "for _ in range(12):\n    print(1, flush=True)\n    input()\n", "python")
    assert giving_up.verdict == Verdict.WA, giving_up.feedback()


def test_codejam_judge_is_contained_and_still_judges(judger: Judge, targets: Targets, tmp_path: Path) -> None:
    judge = python_attacks(targets) + textwrap.dedent(
        """
        import sys
        print(REPORT)
        sys.exit(0 if open(sys.argv[2]).read().split() == open(sys.argv[3]).read().split() else 1)
        """
    )
    problem = problem_with(
        tmp_path / "prob",
        {"judge.py": judge},
        [("1\n", "Case #1: 1\n"), ("2\n", "Case #1: 2\n")],
        metadata={"validator_protocol": "codejam"},
    )
    solution = "print('Case #1:', input())\n"
    judgement = judger.judge(problem, solution, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()
    assert_contained(targets, judgement.tests[-1].validator_feedback)
    assert judger.judge(problem, "print('Case #1: 0')\n", "python").verdict == Verdict.WA


@pytest.mark.parametrize(
    "smuggle",
    [
        pytest.param('const char *leak =\n#include "{answer}"\n;', id="include"),
        pytest.param(
            'extern "C" const char leak[];\n'
            'asm(".section .rodata\\n.global leak\\nleak:\\n.incbin \\"{answer}\\"\\n.byte 0\\n.text");',
            id="incbin",
        ),
    ],
)
def test_validator_build_cannot_compile_in_another_problems_answer(
    judger: Judge, targets: Targets, tmp_path: Path, smuggle: str
) -> None:
    targets.other_answer.write_text(f'"{OTHER_SECRET}"\n')  # a C string literal, so that the include compiles
    source = (
        "#include <cstdio>\n#include <string>\n"
        + smuggle.format(answer=targets.other_answer)
        + textwrap.dedent(
            """
        int main(int argc, char **argv) {
            FILE *f = fopen((std::string(argv[3]) + "/judgemessage.txt").c_str(), "w");
            fputs(leak, f);
            return 42;
        }
        """
        )
    )
    problem = problem_with(tmp_path / "prob", {"validate.cpp": source}, [("1\n", "1\n")])
    with pytest.raises(ValidatorError) as caught:
        judger.judge(problem, ECHO, "python")
    message = str(caught.value)
    assert "does not compile" in message and "validate.cpp" in message, message
    assert str(targets.other_answer) in message, message  # the compiler says which file it could not read
    assert OTHER_SECRET not in message


def test_validator_build_script_cannot_write_to_the_host(judger: Judge, targets: Targets, tmp_path: Path) -> None:
    build = f"#!/bin/sh\necho pwned > {targets.problem_marker}\necho pwned > {targets.tmp_marker}\nexit 0\n"
    run = '#!/bin/sh\nexec python3 "$(dirname "$0")/check.py" "$@"\n'
    check = "import sys\nsys.exit(42 if sys.stdin.read().split() == open(sys.argv[2]).read().split() else 43)\n"
    problem = problem_with(tmp_path / "prob", {"build": build, "run": run, "check.py": check}, [("5\n", "5\n")])
    assert judger.judge(problem, ECHO, "python").verdict == Verdict.AC
    assert not targets.problem_marker.exists(), "the build script wrote into the problem folder"
    assert not targets.tmp_marker.exists(), "the build script wrote into the host's /tmp"


def test_feedback_link_does_not_leak_host_files(judger: Judge, targets: Targets, tmp_path: Path) -> None:
    """A judgemessage.txt that is a link to a host file must not be followed by the judge."""
    validator = textwrap.dedent(
        f"""
        import os, sys
        os.symlink({str(targets.other_answer)!r}, sys.argv[3] + "/judgemessage.txt")
        os.symlink({str(targets.home_file)!r}, sys.argv[3] + "/teammessage.txt")
        sys.exit(43)
        """
    )
    problem = problem_with(tmp_path / "prob", {"validate.py": validator}, [("1\n", "1\n")])
    judgement = judger.judge(problem, ECHO, "python")
    assert judgement.verdict == Verdict.WA
    shown = judgement.model_dump_json() + judgement.feedback()
    assert OTHER_SECRET not in shown and HOME_SECRET not in shown


def test_nextpass_link_does_not_feed_host_files_to_the_program(judger: Judge, targets: Targets, tmp_path: Path) -> None:
    validator = textwrap.dedent(
        f"""
        import os, sys
        os.symlink({str(targets.other_answer)!r}, sys.argv[3] + "/nextpass.in")
        sys.exit(42)
        """
    )
    problem = problem_with(
        tmp_path / "prob", {"validate.py": validator}, [("1\n", "1\n")], metadata={"multi_pass": True}
    )
    judgement = judger.judge(problem, "import sys\nsys.stdout.write(sys.stdin.read())\n", "python")
    assert judgement.verdict == Verdict.JE, judgement.feedback()
    assert "nextpass.in is not a regular file" in judgement.tests[0].message
    assert OTHER_SECRET not in judgement.model_dump_json()
