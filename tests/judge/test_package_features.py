"""Problem package features the judge reads: scoring groups, `{{constants}}`, `include/`,
submit-answer, interactive multi-pass, and output validators built once across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig, Verdict
from aiflows.problems import load_package

pytestmark = pytest.mark.slow

WritePackage = Callable[[Path, dict[str, str]], Path]  # the fixture in conftest.py


# answers "k" correctly on tests whose input is below k; scores are written by the validator
SCORING_VALIDATOR = textwrap.dedent(
    """
    import sys
    given, answer, feedback = sys.argv[1], sys.argv[2], sys.argv[3]
    flags = sys.argv[4:]
    got = sys.stdin.read().split()
    if got != open(answer).read().split():
        sys.exit(43)
    if "double" in flags:
        open(feedback + "/score.txt", "w").write("2")
    sys.exit(42)
    """
)


def scoring_package() -> dict[str, str]:
    """Two subtasks: g1 (min of 10 per test, break), g2 (sum of validator scores, continue)."""
    files = {
        "problem.yaml": "name: Scored\nvalidation: custom scoring\n",
        "output_validators/v/validate.py": SCORING_VALIDATOR,
        "data/testdata.yaml": "on_reject: continue\nrange: 0 100\ngrader_flags: ignore_sample\n",
        "data/sample/testdata.yaml": "range: 0 0\naccept_score: 0\n",
        "data/sample/1.in": "1\n",
        "data/sample/1.ans": "1\n",
        "data/secret/g1/testdata.yaml": "on_reject: break\naccept_score: 10\nrange: 0 10\ngrader_flags: min\n",
        "data/secret/g2/testdata.yaml": "on_reject: continue\noutput_validator_flags: double\n",
    }
    for i, n in enumerate((1, 2, 3)):
        files[f"data/secret/g1/{i}.in"] = f"{n}\n"
        files[f"data/secret/g1/{i}.ans"] = f"{n}\n"
    for i, n in enumerate((1, 5, 2, 7)):
        files[f"data/secret/g2/{i}.in"] = f"{n}\n"
        files[f"data/secret/g2/{i}.ans"] = f"{n}\n"
    return files


ECHO = "print(input())\n"
SMALL_ONLY = "n = int(input())\nprint(n if n < 3 else 0)\n"


def test_scoring_groups_aggregate_as_their_testdata_says(
    judger: Judge, tmp_path: Path, write_package: WritePackage
) -> None:
    problem = load_package(write_package(tmp_path / "scored", scoring_package()))
    full = judger.judge(problem, ECHO, "python")
    assert full.verdict == Verdict.AC
    # g1: min of 10s; g2: sum of 2 per test (score.txt), 4 tests
    assert full.group_scores["secret/g1"] == 10 and full.group_scores["secret/g2"] == 8
    assert full.score == 18 and full.max_score == 100
    part = judger.judge(problem, SMALL_ONLY, "python")
    assert part.verdict == Verdict.WA and part.score == 4  # g1 broke at test 2: 0; g2: two of four right
    g1 = [t for t in part.tests if t.name.startswith("secret/g1/")]
    assert [t.verdict for t in g1] == [Verdict.AC, Verdict.AC, Verdict.WA]  # stopped there (break)
    assert len([t for t in part.tests if t.name.startswith("secret/g2/")]) == 4  # continue: all run


def test_oddecho_partial_and_full_scores(judger: Judge, cc_data: Path) -> None:
    root = cc_data / "kattis-examples" / "oddecho"
    problem = load_package(root)
    full = judger.judge(problem, (root / "submissions/accepted/js.py").read_text(), "python")
    assert (full.verdict, full.score, full.max_score) == (Verdict.AC, 100, 100)
    part = judger.judge(problem, (root / "submissions/partially_accepted/sol.py").read_text(), "python")
    # accept_if_any_accepted: the secret group is AC since subtask1 is; subtask2 scores 0
    assert part.verdict == Verdict.AC and part.score == 50
    assert part.group_scores["secret/subtask1"] == 50 and part.group_scores["secret/subtask2"] == 0


CONSTANT_VALIDATOR = textwrap.dedent(
    """
    import sys
    limit = {{LIMIT}}
    word = "{{LIMIT.WORD}}"
    assert sys.argv[4:] == ["{{LIMIT.WORD}}"], sys.argv
    got = sys.stdin.read().split()
    sys.exit(42 if got == [str(limit), word] else 43)
    """
)


def test_constants_are_substituted_in_validators_and_their_args_not_in_submissions(
    judger: Judge, tmp_path: Path, write_package: WritePackage
) -> None:
    root = write_package(
        tmp_path / "const",
        {
            "problem.yaml": (
                "name: Constants\nvalidation: custom\nvalidator_flags: '{{LIMIT.WORD}}'\n"
                "constants:\n  LIMIT:\n    value: 5\n    WORD: five\n"
            ),
            "output_validators/v/validate.py": CONSTANT_VALIDATOR,
            "data/secret/1.in": "x\n",
            "data/secret/1.ans": "x\n",
        },
    )
    problem = load_package(root)
    assert judger.judge(problem, "print(5, 'five')", "python").verdict == Verdict.AC
    # a submission is never substituted: it prints the braces
    assert judger.judge(problem, "print('{{LIMIT}} {{LIMIT.WORD}}')", "python").verdict == Verdict.WA


def test_include_folders_are_placed_next_to_the_submission(
    judger: Judge, tmp_path: Path, write_package: WritePackage
) -> None:
    root = write_package(
        tmp_path / "inc",
        {
            "problem.yaml": "name: Include\nconstants:\n  K: 7\n",
            "include/python3/helper.py": "def answer():\n    return {{K}}\n",
            "include/default/note.txt": "shared\n",
            "include/cpp/helper.h": "inline int answer() { return {{K}}; }\n",
            "data/secret/1.in": "\n",
            "data/secret/1.ans": "7\n",
        },
    )
    problem = load_package(root)
    py = "import helper\nprint(helper.answer())\n"
    assert judger.judge(problem, py, "python").verdict == Verdict.AC
    cpp = '#include <cstdio>\n#include "helper.h"\nint main() { printf("%d\\n", answer()); }\n'
    assert judger.judge(problem, cpp, "cpp").verdict == Verdict.AC
    # the submission's own file wins a name clash
    own = {"main.py": "import helper\nprint(helper.answer())\n", "helper.py": "def answer():\n    return 8\n"}
    assert judger.judge(problem, own, "python").verdict == Verdict.WA


def test_submit_answer_problems_judge_the_submitted_answers(
    judger: Judge, tmp_path: Path, write_package: WritePackage
) -> None:
    root = write_package(
        tmp_path / "answers",
        {
            "problem.yaml": "problem_format_version: 2023-07-draft\nname: Answers\ntype: submit-answer\n",
            "data/secret/a.in": "first\n",
            "data/secret/a.ans": "1\n",
            "data/secret/b.in": "second\n",
            "data/secret/b.ans": "2\n",
        },
    )
    problem = load_package(root)
    assert judger.judge(problem, {"a.ans": "1\n", "b.ans": "2\n"}, "python").verdict == Verdict.AC
    wrong = judger.judge(problem, {"a.ans": "1\n", "b.ans": "3\n"}, "python")
    assert wrong.verdict == Verdict.WA and wrong.first_failure.name == "secret/b"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accepted/absolute.py", Verdict.AC),
        ("accepted/deterministic.py", Verdict.AC),
        ("wrong_answer/negative.py", Verdict.WA),
        ("wrong_answer/negative_second_pass.py", Verdict.WA),
    ],
)
def test_interactive_multi_pass_package(judger: Judge, name: str, expected: Verdict, cc_data: Path) -> None:
    root = cc_data / "bapctools" / "interactivemultipass"
    problem = load_package(root)
    assert problem.interactive and problem.metadata.get("multi_pass")
    assert judger.judge(problem, (root / "submissions" / name).read_text(), "python").verdict == expected


BUILD_AND_JUDGE = textwrap.dedent(
    """
    import sys
    from aiflows.judge import Judge, JudgeConfig
    from aiflows.problems import load_package
    with Judge(JudgeConfig(jobs=1)) as j:
        print(j.judge(load_package(sys.argv[1]), "print(input())", "python").verdict)
    """
)


def test_output_validators_are_built_once_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_package: WritePackage
) -> None:
    home = tmp_path / "home"
    root = write_package(
        tmp_path / "cached",
        {
            "problem.yaml": "name: Cached\nvalidation: custom\n",
            "output_validators/v/validate.cpp": (
                "#include <fstream>\n#include <iostream>\n#include <string>\n"
                "int main(int, char** argv) { std::ifstream a(argv[2]); std::string x, y;"
                " a >> x; std::cin >> y; return x == y ? 42 : 43; }\n"
            ),
            "data/secret/1.in": "hi\n",
            "data/secret/1.ans": "hi\n",
        },
    )
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "AIFLOWS_HOME": str(home), "PYTHONPATH": repo}
    first = subprocess.run([sys.executable, "-c", BUILD_AND_JUDGE, str(root)], env=env, capture_output=True, text=True)
    assert first.stdout.strip() == "AC", first.stderr
    cache = home / "judge" / "validators"
    built = sorted(p for p in cache.iterdir() if p.is_dir())
    assert len(built) == 1 and (built[0] / "validator").is_file()
    marker = (built[0] / "validator").stat()
    second = subprocess.run([sys.executable, "-c", BUILD_AND_JUDGE, str(root)], env=env, capture_output=True, text=True)
    assert second.stdout.strip() == "AC", second.stderr
    again = (built[0] / "validator").stat()
    assert sorted(p for p in cache.iterdir() if p.is_dir()) == built  # no second build folder
    assert (again.st_ino, again.st_mtime_ns) == (marker.st_ino, marker.st_mtime_ns)  # not rebuilt
    # a change to the validator's source is a new build
    (root / "output_validators/v/validate.cpp").write_text(
        (root / "output_validators/v/validate.cpp").read_text() + "// changed\n"
    )
    monkeypatch.setenv("AIFLOWS_HOME", str(home))
    with Judge(JudgeConfig(jobs=1)) as j:
        assert j.validator_cache == cache
        assert j.judge(load_package(root), "print(input())", "python").verdict == Verdict.AC
    assert len([p for p in cache.iterdir() if p.is_dir()]) == 2


@pytest.mark.parametrize("where", ["data/secret/test_group.yaml", "generators/generators.yaml"])
def test_group_validator_args_apply_to_their_group(
    judger: Judge, tmp_path: Path, where: str, write_package: WritePackage
) -> None:
    args = "output_validator_args: [case_sensitive]\n"
    text = args if where.startswith("data") else "test_group.yaml:\n  " + args
    root = write_package(
        tmp_path / "groups",
        {
            "problem.yaml": "problem_format_version: 2023-07-draft\nname: Groups\n",
            "data/sample/1.in": "x\n",
            "data/sample/1.ans": "Hello\n",
            "data/secret/2.in": "x\n",
            "data/secret/2.ans": "Hello\n",
            where: text,
        },
    )
    judgement = judger.judge(load_package(root), "print('hello')", "python")
    verdicts = {t.name: t.verdict for t in judgement.tests}
    # problem.yaml's default comparison ignores case; the group's case_sensitive does not
    expected_sample = Verdict.AC if where.startswith("data") else Verdict.WA  # generators.yaml: all of data/
    assert verdicts["sample/1"] == expected_sample
    assert judgement.verdict == Verdict.WA
