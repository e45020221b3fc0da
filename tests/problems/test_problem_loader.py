"""`load_problems` recognises each source by looking at it, and says clearly when it cannot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiflows.problems import ProblemError, ProblemSet, detect_format, load_problems


def test_detects_every_shared_format(cc_data: Path, tmp_path: Path) -> None:
    assert detect_format("samples") == "samples"
    assert detect_format(cc_data / "kattis-examples" / "hello") == "package"
    assert detect_format(cc_data / "kattis-examples") == "packages"
    assert detect_format(cc_data / "bapctools") == "packages"
    assert detect_format(cc_data / "codejam") == "codejam"
    assert detect_format(cc_data / "codejam" / "codejam" / "2020") == "codejam"
    assert detect_format(cc_data / "humaneval" / "data" / "HumanEval.jsonl.gz") == "humaneval"
    cf = tmp_path / "cf.jsonl"
    row = {"id": "1A", "problem_description": "Add.", "hidden_tests_io": [[["1 2"], "3"]]}
    cf.write_text(json.dumps(row) + "\n")
    assert detect_format(cf) == "cc_flows"


def test_loads_each_format(cc_data: Path, tmp_path: Path) -> None:
    assert [p.id for p in load_problems("samples", limit=2)] == ["balanced_brackets", "circle_area"]
    one = load_problems(cc_data / "kattis-examples" / "hello", cache_dir=tmp_path)
    assert isinstance(one, ProblemSet) and [p.id for p in one] == ["hello"] and one.errors == []
    assert len(load_problems(cc_data / "kattis-examples", cache_dir=tmp_path)) == 4
    bapc = load_problems(cc_data / "bapctools", cache_dir=tmp_path)
    assert len(bapc) == 20 and [e.problem for e in bapc.errors] == ["testproblemconfig"]
    cj = load_problems(cc_data / "codejam", limit=5, cache_dir=tmp_path)
    assert len(cj) == 5 and all(p.source == "codejam" for p in cj)
    he = load_problems(cc_data / "humaneval" / "data" / "HumanEval.jsonl.gz", limit=3)
    assert [p.kind for p in he] == ["function"] * 3
    cf = tmp_path / "cf.jsonl"
    row = {"id": "1529A", "problem_description": "Delete.", "hidden_tests_io": [[["1"], "1"]]}
    cf.write_text(json.dumps(row) + "\n")
    plans = cc_data / "cc_flows" / "plans" / "codeforces_800_editorials.jsonl"
    (p,) = load_problems(cf, cache_dir=tmp_path, plans=plans)
    assert p.source == "cc_flows" and p.metadata["plan"].startswith("We state")


@pytest.mark.parametrize(
    ("content", "name", "fragment"),
    [
        (None, "nowhere", "path does not exist"),
        ("hello", "notes.txt", "unknown file type '.txt'"),
        ('{"id": "1", "plan": "p"}\n', "plans.jsonl", "this is a plans file"),
        ('{"a": 1}\n', "other.jsonl", "unknown record schema (keys: a)"),
        ("not json\n", "junk.jsonl", "no valid JSON record found"),
    ],
)
def test_unrecognised_sources_name_the_path(tmp_path: Path, content: str | None, name: str, fragment: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(ProblemError) as info:
        load_problems(path)
    assert fragment in str(info.value) and info.value.path == path


def test_a_folder_with_nothing_known(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(ProblemError, match="no problem.yaml here or one level below"):
        load_problems(tmp_path)


def test_a_single_broken_package_raises(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "problem.yaml").write_text("validation: weird\n")
    (tmp_path / "p" / "data").mkdir()
    with pytest.raises(ProblemError, match="unknown validation mode 'weird'"):
        load_problems(tmp_path / "p")
