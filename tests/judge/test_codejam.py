"""Code Jam problems judged through their own judges (Code Jam protocol, real data, real sandbox).

Each problem gets a correct program (written from the statement, or one that re-emits a valid
variant of the reference answer when the judge accepts any valid answer) and a wrong one.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, ValidatorError, Verdict
from aiflows.judge._codejam import build_codejam_validator, run_codejam_validator
from aiflows.judge._py2 import convert_python2
from aiflows.judge._validators import Validator
from aiflows.problems import Problem, ProblemSet, load_codejam

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("AIFLOWS_SHARED_DATA", REPO.parent / "shared" / "data"))
CODEJAM = SHARED / "cc" / "codejam"
MakeProblem = Callable[..., Problem]  # the `make_problem` fixture of conftest.py


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> ProblemSet:
    if not CODEJAM.is_dir():
        pytest.fail(f"the shared Code Jam data {CODEJAM} is missing (set AIFLOWS_SHARED_DATA)")
    return load_codejam(CODEJAM, cache_dir=tmp_path_factory.mktemp("codejam-cache"))


@pytest.fixture(scope="module")
def cj_judge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judge]:
    work = tmp_path_factory.mktemp("codejam-judge")
    with Judge(JudgeConfig(jobs=2, time_limit_cap=5.0, work_dir=work)) as j:
        yield j


def problem(archive: ProblemSet, slug: str) -> Problem:
    (found,) = [p for p in archive if p.id.endswith("/" + slug)]
    return found


def small(p: Problem, limit: int = 2) -> Problem:
    """The samples and the first `limit` hidden test sets: enough to judge, quick to run."""
    tests = p.samples + [t for t in p.tests if not t.is_sample][:limit]
    return p.model_copy(update={"tests": tests})


def replay(p: Problem, transform: str = "") -> str:
    """A program that prints, for each known input, the reference answer after `transform`
    (Python source defining `fix(answer: str) -> str`; the identity when empty)."""
    table = {t.input_path.read_text(): t.answer_path.read_text() for t in p.tests}
    body = transform or "def fix(answer):\n    return answer\n"
    return f"import sys\n{body}\nTABLE = {table!r}\nsys.stdout.write(fix(TABLE[sys.stdin.read()]))\n"


def verdicts(judger: Judge, p: Problem, good: str, bad: str) -> None:
    """`good` passes every test (samples and hidden sets); `bad` gets WA from the judge."""
    ok, wrong = judger.judge(p, good, "python"), judger.judge(p, bad, "python")
    assert ok.verdict == Verdict.AC, ok.feedback()
    assert ok.passed == len(p.tests) >= 2
    assert wrong.verdict == Verdict.WA, wrong.feedback()


# -- the runnable table ------------------------------------------------------------------------


def test_how_many_codejam_validators_run(archive: ProblemSet, cj_judge: Judge) -> None:
    custom = [p for p in archive if p.output_validator is not None and not p.interactive]
    assert len(custom) == 29

    def build(p: Problem) -> tuple[Problem, str]:
        try:
            build_codejam_validator(p, cj_judge.work_dir / "validators")
        except ValidatorError as exc:
            assert exc.file is not None and Path(exc.file).name == p.output_validator.name  # type: ignore[union-attr]
            return p, str(exc).split(": ", 1)[1]
        return p, ""

    with ThreadPoolExecutor(max_workers=2) as pool:
        built = list(pool.map(build, custom))
    rows: dict[str, Counter[str]] = {}
    for p, error in built:
        lang = str(p.metadata["validator_language"])
        if lang == "python":
            lang = "python 2 (converted)" if p.metadata["validator_python2"] else "python 3"
        rows.setdefault(lang, Counter())["judges"] += 1
        rows[lang]["runnable" if not error else "not runnable"] += 1
    print("\nCode Jam output validators (non-interactive problems)")
    print(f"{'language':<24}{'judges':>8}{'runnable':>10}{'not runnable':>14}")
    for lang, row in sorted(rows.items()):
        print(f"{lang:<24}{row['judges']:>8}{row['runnable']:>10}{row['not runnable']:>14}")
    total = sum((row for row in rows.values()), Counter())
    print(f"{'all':<24}{total['judges']:>8}{total['runnable']:>10}{total['not runnable']:>14}")
    interactive = [p for p in archive if p.interactive]
    print(f"interactive judges: {len(interactive)}, not run (the archive ships no data for them)")
    for p, error in built:
        if error:
            print(f"  not runnable: {p.id}: {error.splitlines()[0][:160]}")
    assert rows["python 2 (converted)"]["runnable"] == rows["python 2 (converted)"]["judges"] == 16
    assert rows["python 3"]["runnable"] == 2
    assert rows["cpp"] == Counter(judges=8, runnable=7, **{"not runnable": 1})  # saving_the_jelly: C++ error
    assert rows["java"]["runnable"] == 0  # they need Google's cocolib, not in the archive


# -- no custom judge: token comparison on `Case #x:` answers -----------------------------------

VESTIGIUM = """
import sys
data = sys.stdin.read().split()
pos = 1
for case in range(1, int(data[0]) + 1):
    n = int(data[pos]); pos += 1
    m = [data[pos + i * n: pos + (i + 1) * n] for i in range(n)]; pos += n * n
    trace = sum(int(m[i][i]) for i in range(n))
    rows = sum(len(set(r)) < n for r in m)
    cols = sum(len(set(c)) < n for c in zip(*m))
    print(f"Case #{case}: {trace} {rows} {cols}")
"""


def test_vestigium_without_custom_judge(archive: ProblemSet, cj_judge: Judge) -> None:
    p = problem(archive, "vestigium")
    assert p.output_validator is None and p.tests[1].answer_path.read_text().startswith("Case #1: ")
    verdicts(cj_judge, p, VESTIGIUM, VESTIGIUM.replace("{cols}", "0"))
    wrong = cj_judge.judge(p, VESTIGIUM.replace("Case #{case}:", "Case #{case + 1}:"), "python")
    assert wrong.verdict == Verdict.WA and "Case" in wrong.first_failure.expected_excerpt  # type: ignore[union-attr]


# -- Python 2 judges, converted ----------------------------------------------------------------

TRANSPOSE = """
def fix(answer):
    out, block = [], []
    def flush():
        out.extend(" ".join(col) for col in zip(*block))
        block.clear()
    for line in answer.splitlines():
        if line.startswith("Case"):
            flush()
            out.append(line)
        elif line.strip():
            block.append(line.split())
    flush()
    return "\\n".join(out) + "\\n"
"""
BREAK_ROW = """
def fix(answer):
    lines = answer.splitlines()
    at = next(i for i, l in enumerate(lines) if l.endswith("POSSIBLE") and not l.endswith("IMPOSSIBLE")) + 1
    row = lines[at].split()
    lines[at] = " ".join([row[1]] + row[1:])
    return "\\n".join(lines) + "\\n"
"""


def test_indicium_python2_judge(archive: ProblemSet, cj_judge: Judge) -> None:
    """The transposed reference square is a different valid answer; a row with a repeat is not."""
    p = small(problem(archive, "indicium"))
    assert p.metadata["validator_python2"] is True
    verdicts(cj_judge, p, replay(p, TRANSPOSE), replay(p, BREAK_ROW))
    wrong = cj_judge.judge(p, replay(p, BREAK_ROW), "python").first_failure
    assert wrong is not None and "not a permutation" in wrong.validator_feedback


PARENTING = """
import sys
data = sys.stdin.read().split()
pos = 1
for case in range(1, int(data[0]) + 1):
    n = int(data[pos]); pos += 1
    spans = sorted((int(data[pos + 2 * i]), int(data[pos + 2 * i + 1]), i) for i in range(n)); pos += 2 * n
    free = {"C": 0, "J": 0}
    who = [""] * n
    for start, end, i in spans:
        person = next((k for k in "CJ" if free[k] <= start), None)
        if person is None:
            who = None
            break
        free[person], who[i] = end, person
    print(f"Case #{case}: " + ("IMPOSSIBLE" if who is None else "".join(who)))
"""


def test_parenting_partnering_returns(archive: ProblemSet, cj_judge: Judge) -> None:
    """Any valid schedule is accepted (ours differs from the reference); overlapping tasks are not."""
    p = problem(archive, "parenting_partnering_returns")
    verdicts(
        cj_judge,
        p,
        PARENTING,
        PARENTING.replace('"CJ"', '"C"').replace("who = None", "who = ['C'] * n"),
    )


FOREGONE = """
n = int(input())
for case in range(1, n + 1):
    s = input().strip()
    a = s.replace("4", "3")
    b = int("".join("1" if c == "4" else "0" for c in s))
    print(f"Case #{case}: {a} {b}")
"""


def test_foregone_solution_py3_file_with_python2_syntax(archive: ProblemSet, cj_judge: Judge) -> None:
    p = small(problem(archive, "foregone_solution"), limit=3)
    assert p.output_validator is not None and p.output_validator.suffix == ".py3"
    verdicts(
        cj_judge,
        p,
        FOREGONE,
        FOREGONE.replace('s.replace("4", "3")', "s").replace("b = int(", "b = 0 * int("),
    )


# -- a Python 3 judge --------------------------------------------------------------------------


def test_letter_blocks_python3_judge(archive: ProblemSet, cj_judge: Judge) -> None:
    p = small(problem(archive, "letter_blocks"), limit=1)
    assert p.metadata["validator_python2"] is False
    give_up = "import re\ndef fix(answer):\n    return re.sub(r': \\S+', ': IMPOSSIBLE', answer)\n"
    verdicts(cj_judge, p, replay(p), replay(p, give_up))


# -- C++ judges: exit-code and status-file protocols -------------------------------------------

REVERSORT = """
import sys
data = sys.stdin.read().split()
for case in range(1, int(data[0]) + 1):
    n, c = int(data[2 * case - 1]), int(data[2 * case])
    extra, lengths = c - (n - 1), []
    for i in range(1, n):
        add = min(max(extra, 0), n - i)
        lengths.append(1 + add)
        extra -= add
    if c < n - 1 or extra > 0:
        print(f"Case #{case}: IMPOSSIBLE")
        continue
    arr = list(range(1, n + 1))
    for i in range(n - 1, 0, -1):
        length = lengths[i - 1]
        arr[i - 1:i - 1 + length] = arr[i - 1:i - 1 + length][::-1]
    print(f"Case #{case}: " + " ".join(map(str, arr)))
"""


def test_reversort_engineering_cpp_judge(archive: ProblemSet, cj_judge: Judge) -> None:
    p = problem(archive, "reversort_engineering")
    assert p.metadata["validator_language"] == "cpp"
    identity = REVERSORT.replace("for i in range(n - 1, 0, -1):", "for i in []:")
    verdicts(cj_judge, p, REVERSORT, identity)


PRINTING = """
import sys
data = list(map(int, sys.stdin.read().split()))
for case in range(1, data[0] + 1):
    rows = [data[1 + 12 * (case - 1) + 4 * k: 1 + 12 * (case - 1) + 4 * (k + 1)] for k in range(3)]
    least = [min(col) for col in zip(*rows)]
    left, out = 10 ** 6, []
    for v in least:
        out.append(min(v, left))
        left -= out[-1]
    print(f"Case #{case}: " + ("IMPOSSIBLE" if left else " ".join(map(str, out))))
"""


def test_3d_printing_cpp_judge_with_status_file(archive: ProblemSet, cj_judge: Judge) -> None:
    p = problem(archive, "3d_printing")
    too_much = PRINTING.replace("out.append(min(v, left))", "out.append(v)")
    verdicts(cj_judge, p, PRINTING, too_much)
    failure = cj_judge.judge(p, too_much, "python").first_failure
    assert failure is not None and failure.validator_feedback  # the status file's message


# -- judges that cannot run, or fail -----------------------------------------------------------


def test_unrunnable_judges_raise_naming_the_file(archive: ProblemSet, cj_judge: Judge) -> None:
    java = problem(archive, "triangles")
    with pytest.raises(ValidatorError, match="cocolib|no Java toolchain") as info:
        cj_judge.judge(java, "print()", "python")
    assert info.value.file is not None and info.value.file.endswith("TrianglesCustomJudge.java")
    broken = problem(archive, "saving_the_jelly")
    with pytest.raises(ValidatorError, match="does not build with g\\+\\+.*error") as info:
        cj_judge.judge(broken, "print()", "python")
    assert info.value.file is not None and info.value.file.endswith("judge.cpp")
    interactive = problem(archive, "twisty_little_passages")
    with pytest.raises(ValidatorError, match="interactive"):
        cj_judge.judge_samples(interactive, "print()", "python")


def synthetic(make_problem: MakeProblem, tmp_path: Path, judge_code: str) -> Problem:
    source = tmp_path / "judge" / "custom_judge.py"
    source.parent.mkdir(parents=True)
    source.write_text(judge_code)
    return make_problem(
        [("1\n", "Case #1: 1\n"), ("1\n", "Case #1: 1\n")],
        validation="custom",
        output_validator=source,
        source="codejam",
        metadata={"validator_protocol": "codejam: validator input_file attempt_file answer_file; exit 0 accepts"},
    )


CHECK = "import sys\nattempt = open(sys.argv[2]).read()\nanswer = open(sys.argv[3]).read()\n"


def test_judge_failures_are_judge_errors(make_problem: MakeProblem, tmp_path: Path, cj_judge: Judge) -> None:
    crash = synthetic(make_problem, tmp_path, CHECK + "raise KeyError('boom')\n")
    result = cj_judge.judge(crash, "print('Case #1: 1')", "python")
    assert result.verdict == Verdict.JE and "KeyError" in result.tests[0].validator_feedback
    assert "custom_judge.py" in result.tests[0].message


def test_judge_blaming_itself_is_je(make_problem: MakeProblem, tmp_path: Path, cj_judge: Judge) -> None:
    blame = synthetic(
        make_problem,
        tmp_path,
        CHECK + "if attempt != answer:\n    print('JUDGE_ERROR Case #1: ours is wrong')\n    sys.exit(1)\n",
    )
    assert cj_judge.judge(blame, "print('Case #1: 1')", "python").verdict == Verdict.AC
    result = cj_judge.judge(blame, "print('Case #1: 2')", "python")
    assert result.verdict == Verdict.JE and "ours is wrong" in result.tests[0].validator_feedback


PY2_JUDGE = """
import sys
def FindError(attempt, answer):
    if attempt.split() != answer.split():
        return "Case #1: wrong"
if __name__ == "__main__":
    if sys.argv[1] == '-2':
        assert 7 / 2 == 3 and len(filter(None, [0, 1])) == 1, "self-test"
        assert SELF_TEST_PASSES
        sys.exit(0)
    result = FindError(file(sys.argv[2]).read(), file(sys.argv[3]).read())
    if result:
        print >> sys.stderr, result
        sys.exit(1)
"""


def test_python2_judge_is_self_tested_after_conversion(
    make_problem: MakeProblem, tmp_path: Path, cj_judge: Judge
) -> None:
    good = synthetic(make_problem, tmp_path / "good", PY2_JUDGE.replace("SELF_TEST_PASSES", "True"))
    assert cj_judge.judge(good, "print('Case #1: 1')", "python").verdict == Verdict.AC
    wrong = cj_judge.judge(good, "print('Case #1: 2')", "python")
    assert wrong.verdict == Verdict.WA and wrong.tests[0].validator_feedback == "Case #1: wrong"
    bad = synthetic(make_problem, tmp_path / "bad", PY2_JUDGE.replace("SELF_TEST_PASSES", "1 == 2"))
    with pytest.raises(ValidatorError, match=r"fails its own self-test \(-2\) after conversion") as info:
        cj_judge.judge(bad, "print('Case #1: 1')", "python")
    assert info.value.file is not None and info.value.file.endswith("custom_judge.py")
    side_effects = synthetic(make_problem, tmp_path / "odd", "x = {}\nx[len(x)] = 4\nx[len(x)] /= 2\nprint 'x'\n")
    with pytest.raises(ValidatorError, match="cannot be converted to Python 3.*side effects"):
        cj_judge.judge(side_effects, "print('Case #1: 1')", "python")


def test_non_utf8_output_is_wrong_not_a_crash(make_problem: MakeProblem, tmp_path: Path, cj_judge: Judge) -> None:
    strict = synthetic(make_problem, tmp_path, CHECK + "sys.exit(0 if attempt == answer else 1)\n")
    result = cj_judge.judge(strict, "import sys\nsys.stdout.buffer.write(b'Case #1: \\xff\\n')", "python")
    assert result.verdict == Verdict.WA and "UTF-8" in result.tests[0].validator_feedback


# -- the Python 2 conversion itself ------------------------------------------------------------

PY2 = """
import sys
def halves(n):
    return n / 2, n / 2.0, -7 / 2
total = 9
total /= 2
print >> sys.stderr, "to stderr"
print "%d %s %s" % (total, halves(7), round(2.5))
for k, v in sorted({'b': 1, 'a': 2}.iteritems()):
    print k, v
print sorted([3, 1, 2], cmp=lambda a, b: cmp(b, a)), [x for x in xrange(3)], file(sys.argv[1]).read().strip()
"""


def test_convert_python2_keeps_python2_meaning(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = convert_python2(PY2)
    (tmp_path / "prog.py").write_text(code)
    (tmp_path / "data.txt").write_text("\xe9t\xe9\n", encoding="latin-1")
    done = subprocess.run(
        [sys.executable, str(tmp_path / "prog.py"), str(tmp_path / "data.txt")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "to stderr\n"
    assert done.stdout == "4 (3, 3.5, -4) 3.0\na 2\nb 1\n[3, 2, 1] [0, 1, 2] \xe9t\xe9\n"
    true_div = convert_python2("from __future__ import division\nprint 7 / 2\n")
    assert "_py2_div(7" not in true_div and "__future__" not in true_div


def test_conversion_refuses_what_it_cannot_do_safely() -> None:
    with pytest.raises(ValueError, match="side effects"):
        convert_python2("x = {}\ndef k():\n    return 1\nx[k()] = 4\nx[k()] /= 2\n")
    with pytest.raises(ValueError, match="lib2to3"):
        convert_python2("def f(:\n    pass\n")


def test_converted_judge_answers_like_the_original(archive: ProblemSet, cj_judge: Judge, tmp_path: Path) -> None:
    """Directly: the reference answer is accepted, a truncated one rejected with the judge's reason."""
    p = problem(archive, "pylons")
    validator: Validator = build_codejam_validator(p, cj_judge.work_dir / "validators")
    test = p.tests[0]
    said = run_codejam_validator(validator, test.input_path, test.answer_path, test.answer_path, tmp_path, 60)
    assert said.verdict == Verdict.AC, said.message
    cut = tmp_path / "cut.out"
    cut.write_text(test.answer_path.read_text().splitlines()[0] + "\n")
    said = run_codejam_validator(validator, test.input_path, cut, test.answer_path, tmp_path, 60)
    assert said.verdict == Verdict.WA and "Too few cases" in said.message
