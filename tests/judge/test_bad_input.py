"""Malformed packages and programs: clear errors naming the problem and the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aiflows.judge import Judge, PackageError, ValidatorError, Verdict
from aiflows.problems.model import Problem
from aiflows.problems.model import TestCase as Case

REPO = Path(__file__).resolve().parents[2]


def test_missing_answer_file_is_named(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1\n", "1\n"), ("2\n", "2\n")], id="gappy")
    missing = problem.tests[1].answer_path
    missing.unlink()
    with pytest.raises(PackageError) as info:
        judger.judge(problem, "print(input())\n", "python")
    assert info.value.problem == "gappy" and info.value.file == str(missing)
    assert "answer file of test secret/1 is missing" in str(info.value)


def test_problem_without_tests(judger: Judge) -> None:
    with pytest.raises(PackageError, match="problem 'empty'.*no test data"):
        judger.judge(Problem(id="empty", title="Empty"), "print(1)\n", "python")


def test_custom_validation_without_a_validator(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1\n", "1\n")], id="novalidator", validation="custom")
    with pytest.raises(PackageError, match="problem 'novalidator'.*no output validator"):
        judger.judge(problem, "print(1)\n", "python")


def test_validator_that_does_not_compile(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "output_validator" / "validate.cpp"
    source.parent.mkdir()
    source.write_text("int main() { return not_declared; }\n")
    problem = make_problem([("1\n", "1\n")], id="badval", validation="custom", output_validator=source.parent)
    with pytest.raises(ValidatorError) as info:
        judger.judge(problem, "print(1)\n", "python")
    assert info.value.problem == "badval" and info.value.file == str(source)
    assert "does not compile" in str(info.value) and "not_declared" in str(info.value)


def test_validator_path_that_does_not_exist(judger: Judge, make_problem, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1\n", "1\n")], id="ghost", validation="custom", output_validator=tmp_path / "nope.py")
    with pytest.raises(ValidatorError, match="problem 'ghost', file .*nope.py: the output validator does not exist"):
        judger.judge(problem, "print(1)\n", "python")


def test_bad_validator_flags_name_problem_yaml(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    problem = make_problem([("1\n", "1\n")], id="flags", validator_flags=["float_tolerance", "lots"])
    with pytest.raises(PackageError) as info:
        judger.judge(problem, "print(1)\n", "python")
    assert info.value.file is not None and info.value.file.endswith("problem.yaml")
    assert "'lots' is not a number" in str(info.value)


@pytest.mark.parametrize(
    ("code", "language", "needle"),
    [
        ("int main( { }\n", "c", "error"),
        ("int main() { std::vector<int> v; }\n", "cpp", "vector"),
    ],
)
def test_programs_that_do_not_compile_are_ce(
    judger: Judge, make_problem, code: str, language: str, needle: str
) -> None:  # type: ignore[no-untyped-def]
    judgement = judger.judge(make_problem([("1\n", "1\n")]), code, language)
    assert judgement.verdict == Verdict.CE
    assert needle in judgement.compile_output
    assert judgement.tests == []


def test_python_syntax_error_is_a_compile_error_with_its_line(judger: Judge, make_problem) -> None:  # type: ignore[no-untyped-def]
    judgement = judger.judge(make_problem([("1\n", "1\n")]), "print(1\n", "python")
    assert judgement.verdict == Verdict.CE  # as the reference judges say, before any test runs
    assert judgement.tests == []
    assert "SyntaxError" in judgement.compile_output and "line 1" in judgement.compile_output
    nul = judger.judge(make_problem([("1\n", "1\n")]), "print(1)\0\n", "python")
    assert nul.verdict == Verdict.CE and "null bytes" in nul.compile_output
    modules = {"main.py": "import helper\nprint(helper.ONE)\n", "helper.py": "ONE = (1\n"}
    broken_module = judger.judge(make_problem([("1\n", "1\n")]), modules, "python")
    assert broken_module.verdict == Verdict.CE and "helper.py" in broken_module.compile_output


def test_cli_names_a_malformed_package(tmp_path: Path) -> None:
    package = tmp_path / "broken"
    package.mkdir()
    (package / "problem.yaml").write_text("name: Broken\n")
    program = tmp_path / "sol.py"
    program.write_text("print(1)\n")
    done = subprocess.run(
        [sys.executable, "-m", "aiflows.cli.judge", str(package), str(program)],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("ProblemError: ") and "broken" in done.stderr and "data" in done.stderr


def test_test_case_paths_are_validated_per_test(judger: Judge, tmp_path: Path) -> None:
    inp = tmp_path / "1.in"
    inp.write_text("1\n")
    problem = Problem(
        id="half",
        title="Half",
        tests=[Case(name="sample/1", input_path=inp, answer_path=tmp_path / "1.ans", is_sample=True)],
    )
    with pytest.raises(PackageError, match="answer file of test sample/1 is missing"):
        judger.judge_samples(problem, "print(1)\n", "python")
