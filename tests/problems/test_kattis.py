"""ICPC/Kattis package loading on the real example packages and on broken packages written here."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiflows.problems import ProblemError, load_package, load_packages


@pytest.fixture
def kattis(shared_data: Path) -> Path:
    return shared_data / "cc" / "kattis-examples"


@pytest.fixture
def bapc(shared_data: Path) -> Path:
    return shared_data / "cc" / "bapctools"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_package(root: Path, yaml: str = "name: Tiny\n", tests: dict[str, str] | None = None) -> Path:
    write(root / "problem.yaml", yaml)
    for rel, text in (
        tests or {"sample/1.in": "1\n", "sample/1.ans": "1\n", "secret/1.in": "2\n", "secret/1.ans": "2\n"}
    ).items():
        write(root / "data" / rel, text)
    return root


def test_different_custom_validator_and_statement(kattis: Path, tmp_path: Path) -> None:
    p = load_package(kattis / "different", cache_dir=tmp_path)
    assert (p.id, p.title, p.source) == ("different", "A Different Problem", "kattis")
    assert p.validation == "custom"
    assert p.output_validator == kattis / "different" / "output_validators" / "different_validator"
    assert [t.name for t in p.tests] == ["sample/1", "secret/01", "secret/02_extreme_cases"]
    assert [t.is_sample for t in p.tests] == [True, False, False]
    assert all(t.input_path.is_file() and t.answer_path.is_file() for t in p.tests)
    assert p.statement.startswith("# A Different Problem")
    assert "## Input" in p.statement and "$10^{15}$" in p.statement and "\\section" not in p.statement
    assert "## Sample 1" in p.statement and (kattis / "different/data/sample/1.in").read_text() in p.statement
    assert p.metadata["statement_file"] == "problem_statement/problem.en.tex"
    assert p.time_limit == 2.0 and p.metadata["time_limit_source"] == "default"


def test_guess_is_interactive_with_transcripts(kattis: Path, tmp_path: Path) -> None:
    p = load_package(kattis / "guess", cache_dir=tmp_path)
    assert p.interactive and p.validation == "custom-interactive"
    assert p.output_validator == kattis / "guess" / "output_validator" / "guess_validator"
    assert p.samples == [] and len(p.tests) == 10
    assert p.metadata["interaction_samples"] == ["data/sample/1.interaction", "data/sample/2.interaction"]
    assert "solution: 792\njudge: higher" in p.statement
    assert p.metadata["names"] == {"en": "Guess the Number", "sv": "Gissa talet"}


def test_oddecho_nested_groups_scores_and_markdown(kattis: Path, tmp_path: Path) -> None:
    p = load_package(kattis / "oddecho", cache_dir=tmp_path)
    groups = p.metadata["groups"]
    assert groups["secret/subtask1"] == {"tests": 3, "complete": True, "score": 50.0}
    assert groups["secret/subtask2"]["tests"] == 13
    assert [t.name for t in p.tests][:3] == ["sample/1", "sample/2", "secret/subtask1/1"]
    assert p.tests == sorted(p.tests, key=lambda t: t.name)
    assert p.metadata["scoring"] is True
    assert "\\(1 \\le N \\le 10\\)" in p.statement  # math kept verbatim


def test_hello_memory_limit_and_no_samples(kattis: Path, tmp_path: Path) -> None:
    p = load_package(kattis / "hello", cache_dir=tmp_path)
    assert p.memory_limit_mb == 512 and p.samples == [] and len(p.tests) == 1
    assert p.validation == "default" and p.output_validator is None


def test_bapctools_set_reports_the_broken_package_and_loads_the_rest(bapc: Path, tmp_path: Path) -> None:
    s = load_packages(bapc, cache_dir=tmp_path)
    assert len(s) == 20 and len(s.errors) == 1
    err = s.errors[0]
    assert err.problem == "testproblemconfig" and err.path == bapc / "testproblemconfig" / "data"
    assert "no data/ folder" in str(err) and "testproblemconfig" in str(err)
    by_id = s.by_id()
    # generator-only problems load with what is committed and say they have no secret data
    divsort = by_id["divsort"]
    assert divsort.tests == [] and divsort.metadata["has_secret_data"] is False
    assert divsort.metadata["generated_data"] is True
    assert "generators" in divsort.metadata["notes"][0]
    assert by_id["identity"].metadata["has_secret_data"] is False and len(by_id["identity"].samples) == 5
    assert by_id["different"].metadata["has_secret_data"] is True
    # 2025-09 keys: limits.time_limit, test_group.yaml flags, type lists, output_validator/
    assert by_id["fltcmp"].time_limit == 1.0
    assert by_id["fltcmp"].validator_flags == ["float_tolerance", "1E-6"]
    # BAPCtools keeps these in generators.yaml's top-level test_group.yaml entry
    assert by_id["alternativeencryption"].validator_flags == ["case_sensitive"]
    assert by_id["hellounix"].time_limit == 10.0 and by_id["hellounix"].memory_limit_mb == 512
    assert by_id["multipass"].validation == "custom" and by_id["multipass"].metadata["multi_pass"] is True
    imp = by_id["interactivemultipass"]
    assert imp.validation == "custom-interactive" and imp.metadata["types"] == ["interactive", "multi-pass"]
    pseudo = by_id["pseudointeraction"]
    assert pseudo.output_validator == bapc / "pseudointeraction" / "output_validator" / "interactor.py"
    assert by_id["boolfind"].output_validator == bapc / "boolfind" / "output_validator"
    assert by_id["constants"].validation == "custom"  # 2025-09: the presence of a validator decides
    assert by_id["hello"].validation == "default"


def test_legacy_validation_modes_and_flags(tmp_path: Path) -> None:
    yaml = "name: A\nvalidation: default\nvalidator_flags: float_tolerance 1e-4\n"
    p = load_package(make_package(tmp_path / "a", yaml))
    assert p.validation == "default" and p.validator_flags == ["float_tolerance", "1e-4"]
    root = make_package(
        tmp_path / "b", "name: B\nvalidation: custom interactive\n", {"secret/1.in": "5\n"}
    )  # interactive: the answer file may be missing
    write(root / "output_validators" / "judge" / "judge.py", "print()\n")
    p = load_package(root, cache_dir=tmp_path / "cache")
    assert p.validation == "custom-interactive"
    assert p.output_validator == root / "output_validators" / "judge" / "judge.py"
    (test,) = p.tests
    assert test.answer_path.is_file() and test.answer_path.read_text() == ""
    assert p.metadata["unanswered_tests"] == ["secret/1"]
    root = make_package(tmp_path / "c", "name: C\nvalidation: custom multi-pass\n")
    write(root / "output_validators" / "v" / "validate.cc", "int main(){}\n")
    write(root / "output_validators" / "v" / "validate.h", "\n")
    p = load_package(root)
    assert p.validation == "custom" and p.metadata["multi_pass"] is True
    assert p.output_validator == root / "output_validators" / "v"


def test_time_limit_sources(tmp_path: Path) -> None:
    root = make_package(tmp_path / "t1")
    write(root / ".timelimit", "3.5\n")
    p = load_package(root)
    assert p.time_limit == 3.5 and p.metadata["time_limit_source"] == ".timelimit"
    root = make_package(tmp_path / "t2")
    write(root / "domjudge-problem.ini", "timelimit='4'\n")
    assert load_package(root).time_limit == 4.0
    p = load_package(make_package(tmp_path / "t3", "name: T\nlimits:\n  time_multiplier: 5\n  memory: 64\n"))
    assert p.time_limit == 2.0 and p.metadata["time_multiplier"] == 5.0 and p.memory_limit_mb == 64
    with pytest.raises(ProblemError, match="positive number") as info:
        load_package(make_package(tmp_path / "t4", "name: T\nlimits:\n  time_limit: -1\n"))
    assert info.value.key == "limits.time_limit"


def test_joined_parts_in_the_cache(tmp_path: Path) -> None:
    root = make_package(
        tmp_path / "p", tests={"secret/big.in.part00": "1 2 ", "secret/big.in.part01": "3\n", "secret/big.ans": "6\n"}
    )
    p = load_package(root, cache_dir=tmp_path / "cache")
    (test,) = p.tests
    assert test.input_path.read_text() == "1 2 3\n" and tmp_path / "cache" in test.input_path.parents


@pytest.mark.parametrize(
    ("yaml", "key", "fragment"),
    [
        ("name: [unclosed\n", None, "invalid YAML at line"),
        ("validation: sometimes\n", "validation", "unknown validation mode 'sometimes'"),
        ("type: riddle\n", "type", "unknown problem type 'riddle'"),
        ("- just\n- a list\n", None, "expected a mapping at the top level"),
        ("validation: custom\n", "validation", "no output validator was found"),
        ("name: X\nlimits: 3\n", "limits", "expected a mapping"),
    ],
)
def test_malformed_problem_yaml(tmp_path: Path, yaml: str, key: str | None, fragment: str) -> None:
    root = make_package(tmp_path / "broken", yaml)
    with pytest.raises(ProblemError) as info:
        load_package(root)
    err = info.value
    assert err.problem == "broken" and err.path == root / "problem.yaml" and err.key == key
    assert fragment in str(err) and str(root / "problem.yaml") in str(err)


def test_missing_answer_and_missing_paths(tmp_path: Path) -> None:
    root = make_package(tmp_path / "noans", tests={"secret/7.in": "1\n"})
    with pytest.raises(ProblemError, match=r"input 7.in has no answer file 7.ans") as info:
        load_package(root)
    assert info.value.path == root / "data" / "secret" / "7.in"
    with pytest.raises(ProblemError, match="path does not exist"):
        load_package(tmp_path / "nowhere")
    write(tmp_path / "nodata" / "problem.yaml", "name: N\n")
    with pytest.raises(ProblemError, match="no data/ folder"):
        load_package(tmp_path / "nodata")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProblemError, match="no problem.yaml"):
        load_package(tmp_path / "empty")


def test_a_set_keeps_loading_after_a_bad_package(tmp_path: Path) -> None:
    make_package(tmp_path / "set" / "a_good")
    make_package(tmp_path / "set" / "b_bad", "validation: maybe\n")
    make_package(tmp_path / "set" / "c_good")
    s = load_packages(tmp_path / "set")
    assert [p.id for p in s] == ["a_good", "c_good"]
    assert [e.problem for e in s.errors] == ["b_bad"] and "maybe" in str(s.errors[0])
    assert [p.id for p in load_packages(tmp_path / "set", limit=1)] == ["a_good"]


def test_interactive_samples_are_labelled_for_the_interactor(bapc: Path, tmp_path: Path) -> None:
    p = load_package(bapc / "boolfind", cache_dir=tmp_path)
    assert p.interactive and "Interactor input:" in p.statement and "\nInput:" not in p.statement
    guess = load_package(bapc / "guess", cache_dir=tmp_path)
    assert "## Sample interaction 1" in guess.statement and "Interactor input" not in guess.statement


def test_relative_paths_become_absolute(kattis: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(kattis)
    p = load_package("hello", cache_dir=tmp_path)
    assert p.root == (kattis / "hello").resolve() and all(t.input_path.is_absolute() for t in p.tests)


def test_contest_problem_list(tmp_path: Path) -> None:
    make_package(tmp_path / "c" / "a", "name: A\n")
    write(tmp_path / "c" / "problems.yaml", "- id: a\n  time_limit: 4.5\n")
    (a,) = load_packages(tmp_path / "c")
    assert a.time_limit == 4.5 and a.metadata["time_limit_source"] == "contest"
    write(tmp_path / "c" / "problems.yaml", "id: a\n")
    s = load_packages(tmp_path / "c")
    assert [p.time_limit for p in s] == [2.0]
    assert s.errors[0].path == tmp_path / "c" / "problems.yaml" and "expected a list" in str(s.errors[0])


def test_symlink_stubs_are_followed(kattis: Path, tmp_path: Path) -> None:
    """oddecho reuses tests through symlinks; a copy without symlinks holds their target paths."""
    p = load_package(kattis / "oddecho", cache_dir=tmp_path)
    by_name = {t.name: t for t in p.tests}
    reused = by_name["secret/subtask2/1"]
    assert reused.input_path == kattis / "oddecho" / "data" / "secret" / "subtask1" / "1.in"
    assert reused.input_path.read_text().startswith("5\n")
    assert "data/secret/subtask2/1.in" in p.metadata["followed_links"]
    root = make_package(
        tmp_path / "lnk",
        tests={
            "sample/1.in": "7\n",
            "sample/1.ans": "7\n",
            "secret/a.in": "../sample/1.in",
            "secret/a.ans": "../sample/1.ans",
            "secret/b.in": "../../../../etc/passwd.in",
            "secret/b.ans": "x\n",
        },
    )
    q = {t.name: t for t in load_package(root).tests}
    assert q["secret/a"].input_path.read_text() == "7\n"
    assert q["secret/b"].input_path == root / "data" / "secret" / "b.in"  # never outside the package


def test_bapctools_constants_are_reported(bapc: Path, tmp_path: Path) -> None:
    p = load_package(bapc / "constants", cache_dir=tmp_path)
    assert p.metadata["constants"]["SIX"] == 6
    assert any("{{name}}" in n for n in p.metadata["notes"])
