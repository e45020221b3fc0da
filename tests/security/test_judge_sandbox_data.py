"""Attacks on the judge's data: a submission must see only its own input and its own code.

Each test performs the attack for real (a real problem package on disk, a real compiler, the
real bubblewrap sandbox) on both ways the judge runs programs (warm fork server, fresh process):
reading answers at compile time (`#include`, `.incbin`), reading another problem's answers
stored under a path the sandbox shows (the interpreter's prefix), and reading another
submission's code in the judge's programs folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, Judgement, Verdict
from aiflows.judge._sandbox import bwrap_works
from aiflows.problems.model import Problem
from aiflows.problems.model import TestCase as Case

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot create namespaces here"),
]

SECRET = "987654321"  # problem A's hidden answer: a number, so that `int x = #include` compiles
OTHER_SECRET = "123454321"  # problem B's hidden answer
UID_BASE = 63000


def _problem(root: Path, pid: str, given: str, wanted: str) -> Problem:
    """A one-test package whose only test is secret, readable by anyone (only hiding protects it)."""
    secret = root / "data" / "secret"
    secret.mkdir(parents=True)
    (root / "problem.yaml").write_text(f"name: {pid}\n")
    (secret / "1.in").write_text(given)
    (secret / "1.ans").write_text(wanted)
    for path in (root, *root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    test = Case(name="secret/1", input_path=secret / "1.in", answer_path=secret / "1.ans")
    return Problem(root=root, id=pid, title=pid, time_limit=1.0, tests=[test])


@pytest.fixture
def visible_folder() -> Iterator[Path]:
    """A problem-set folder inside the interpreter's prefix, which every sandbox shows read-only."""
    folder = Path(tempfile.mkdtemp(prefix="aiflows-problems-", dir=os.path.realpath(sys.prefix)))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["visible", "private"])
def problems(request: pytest.FixtureRequest, visible_folder: Path, tmp_path: Path) -> tuple[Problem, Problem]:
    """Problems A and B side by side, under a visible path or in a private temp folder."""
    where = visible_folder if request.param == "visible" else tmp_path
    where.chmod(0o755)
    return _problem(where / "a", "a", "1\n", SECRET + "\n"), _problem(where / "b", "b", "2\n", OTHER_SECRET + "\n")


@pytest.fixture(scope="module", params=["fork-server", "fresh-process"])
def judger(request: pytest.FixtureRequest) -> Iterator[Judge]:
    config = JudgeConfig(jobs=2, uid_base=UID_BASE, fork_server=request.param == "fork-server")
    with Judge(config) as j:
        yield j


def _leaks(judgement: Judgement, *secrets: str) -> list[str]:
    """The secrets that the program managed to print or the compiler to echo back."""
    seen = judgement.compile_output + "".join(t.got_excerpt + t.stderr_tail for t in judgement.tests)
    return [s for s in secrets if s in seen]


def test_include_of_the_answer_file_does_not_compile(judger: Judge, problems: tuple[Problem, Problem]) -> None:
    a, b = problems
    for answer in (a.tests[0].answer_path, b.tests[0].answer_path):
        code = textwrap.dedent(f"""
            #include <cstdio>
            int leaked =
            #include "{answer}"
            ;
            int main() {{ std::printf("%d\\n", leaked); }}
        """)
        judgement = judger.judge(a, code, "cpp")
        assert judgement.verdict == Verdict.CE, judgement.feedback()
        assert "No such file or directory" in judgement.compile_output
        assert _leaks(judgement, SECRET, OTHER_SECRET) == []


def test_incbin_of_the_answer_file_does_not_compile(judger: Judge, problems: tuple[Problem, Problem]) -> None:
    a, b = problems
    for answer in (a.tests[0].answer_path, b.tests[0].answer_path):
        code = textwrap.dedent(f"""
            #include <cstdio>
            asm(".section .rodata\\n.global leaked_answer\\nleaked_answer:\\n"
                ".incbin \\"{answer}\\"\\n.byte 0\\n.previous\\n");
            extern "C" const char leaked_answer[];
            int main() {{ std::fputs(leaked_answer, stdout); }}
        """)
        judgement = judger.judge(a, code, "cpp")
        assert judgement.verdict == Verdict.CE, judgement.feedback()
        assert _leaks(judgement, SECRET, OTHER_SECRET) == []


READ_AT_RUN_TIME = """
import sys
got = []
for path in {paths!r}:
    try:
        with open(path) as fh:
            got.append(fh.read().strip())
    except OSError as exc:
        print(type(exc).__name__, path, file=sys.stderr)
print(" ".join(got))
"""


def test_program_cannot_read_answers_by_absolute_path(judger: Judge, problems: tuple[Problem, Problem]) -> None:
    a, b = problems
    # its own answer: printing it would be accepted
    own = judger.judge(a, READ_AT_RUN_TIME.format(paths=[str(a.tests[0].answer_path)]), "python")
    assert own.verdict == Verdict.WA, own.feedback()
    assert "FileNotFoundError" in own.tests[0].stderr_tail
    # the other problem's answer, and its whole folder
    other = [str(b.tests[0].answer_path), str(b.tests[0].input_path), str(b.root / "problem.yaml")]
    judgement = judger.judge(a, READ_AT_RUN_TIME.format(paths=other), "python")
    assert judgement.verdict == Verdict.WA
    assert _leaks(judgement, OTHER_SECRET, "name: b") == []


OWNER_MARK = "owner-a-private-solution-7f3e"
SNOOP = """
import hashlib, os, sys
found = []
root = "/judge/programs"
try:
    names = os.listdir(root)
except OSError as exc:
    names = []
    print("cannot list", root, type(exc).__name__, file=sys.stderr)
# the folder name the judge used to derive from the code alone (sha256 of language + files)
target = {target!r}
h = hashlib.sha256(b"python")
h.update(b"\\0main.py\\0" + target.encode())
names.append(h.hexdigest()[:24])
for name in names:
    try:
        with open(os.path.join(root, name, "main.py")) as fh:
            text = fh.read()
    except OSError:
        continue
    if "{mark}" in text and "SNOOP" not in text:
        found.append(name)
print("leaked" if found else input())
# SNOOP
"""


def test_program_cannot_read_other_submissions(judger: Judge, make_echo: Problem) -> None:
    victim = f"# {OWNER_MARK}\nprint(input())\n"
    assert judger.judge(make_echo, victim, "python").verdict == Verdict.AC
    snoop = SNOOP.format(target=victim, mark=OWNER_MARK)
    judgement = judger.judge(make_echo, snoop, "python")
    assert judgement.verdict == Verdict.AC, judgement.feedback()


@pytest.fixture
def make_echo(tmp_path: Path) -> Problem:
    return _problem(tmp_path / "echo", "echo", "hello\n", "hello\n")


def test_a_set_stored_elsewhere_under_a_visible_path_is_hidden_when_named(tmp_path: Path) -> None:
    """Problem B lies in another visible folder than A (no neighbour of A): a benchmark names
    every problem of its set in `hidden_paths`, so B's answers stay out of A's programs too."""
    with (
        tempfile.TemporaryDirectory(dir=os.path.realpath(sys.prefix)) as one,
        tempfile.TemporaryDirectory(dir=os.path.realpath(sys.prefix)) as two,
    ):
        for folder in (one, two):
            Path(folder).chmod(0o755)
        a = _problem(Path(one) / "a", "a", "1\n", SECRET + "\n")
        b = _problem(Path(two) / "b", "b", "2\n", OTHER_SECRET + "\n")
        paths = [str(b.tests[0].answer_path), str(b.root / "problem.yaml")]
        config = JudgeConfig(jobs=1, uid_base=UID_BASE + 200, hidden_paths=(str(b.root),))
        with Judge(config) as judger:
            judgement = judger.judge(a, READ_AT_RUN_TIME.format(paths=paths), "python")
        assert judgement.verdict == Verdict.WA
        assert "FileNotFoundError" in judgement.tests[0].stderr_tail
        assert _leaks(judgement, OTHER_SECRET, "name: b") == []


def test_problems_of_one_set_share_one_hiding(judger: Judge, visible_folder: Path) -> None:
    """The same data hidden is the same tuple, so a set's problems reuse one warm sandbox."""
    a = _problem(visible_folder / "a", "a", "1\n", SECRET + "\n")
    b = _problem(visible_folder / "b", "b", "2\n", OTHER_SECRET + "\n")
    hidden_a, hidden_b = judger._hidden(a, a.tests), judger._hidden(b, b.tests)
    assert hidden_a == hidden_b and str(visible_folder) in hidden_a
    assert not any(p != q and p.startswith(q + "/") for p in hidden_a for q in hidden_a)
