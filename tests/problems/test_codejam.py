"""The Code Jam archive: every problem loads, with what is missing said plainly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from aiflows.problems import Problem, ProblemError, ProblemSet, load_codejam


@pytest.fixture
def archive(codejam_archive: ProblemSet) -> ProblemSet:
    return codejam_archive


def by_id(s: ProblemSet, slug: str) -> Problem:
    (p,) = [p for p in s if p.id.endswith("/" + slug)]
    return p


def test_whole_archive_loads(archive: ProblemSet) -> None:
    assert len(archive) == 108 and archive.errors == []
    assert len({p.id for p in archive}) == 108
    assert sum(p.interactive for p in archive) == 19
    assert all(p.source == "codejam" and p.statement for p in archive)
    assert Counter(p.metadata["year"] for p in archive) == {2019: 27, 2020: 27, 2021: 27, 2022: 27}
    assert set(Counter(p.metadata["difficulty"] for p in archive)) == {"easy", "medium", "hard"}
    # archive order: year, round tier, position in the round
    first = [p.id for p in archive][:4]
    assert first == [
        "codejam/2019/qualification_round/foregone_solution",
        "codejam/2019/qualification_round/you_can_go_your_own_way",
        "codejam/2019/qualification_round/cryptopangrams",
        "codejam/2019/qualification_round/dat_bae",
    ]


def test_vestigium(archive: ProblemSet) -> None:
    p = by_id(archive, "vestigium")
    assert p.title == "Vestigium" and p.validation == "default"
    assert p.validator_flags == ["float_tolerance", "1e-6"]
    assert p.time_limit == 20.0 and p.memory_limit_mb == 1024
    assert [t.name for t in p.tests] == ["sample/1", "secret/subtask1/1"]
    assert p.tests[1].answer_path.read_text().startswith("Case #1:")
    md = p.metadata
    assert (md["round"], md["round_name"], md["round_tier"], md["position"]) == (
        "qualification_round",
        "Qualification Round",
        1,
        1,
    )
    assert md["difficulty"] == "easy" and md["answer_format"] == "Case #x: ..."
    assert md["buckets"] == ["qualification"] and md["year"] == 2020
    assert md["test_sets"] == [
        {"group": "secret/subtask1", "number": 1, "points": 7.0, "visible": True, "complete": True, "tests": 1}
    ]
    st = p.statement
    assert "# Vestigium" in st and "Case #1: 4 0 0" in st and "1 ≤ T ≤ 100" in st
    for noise in ("Copied!", "save_alt", "content_copy", "MathJax", "<", "onclick"):
        assert noise not in st


def test_interactive_problem_ships_only_the_interactor(archive: ProblemSet) -> None:
    p = by_id(archive, "esab_atad")
    assert p.interactive and p.tests == []
    assert p.output_validator is not None and p.output_validator.name == "judge.py3"
    assert p.metadata["validator_language"] == "python"
    assert "interactor" in p.metadata["validator_protocol"]
    assert any("only the interactor" in n for n in p.metadata["notes"])
    assert "This is an interactive problem" in p.statement


def test_custom_validators_languages_and_protocol(archive: ProblemSet) -> None:
    custom = [p for p in archive if p.output_validator is not None]
    assert len(custom) == 48
    langs = Counter(p.metadata["validator_language"] for p in custom)
    assert langs == {"python": 33, "cpp": 10, "java": 4, "go": 1}
    indicium = by_id(archive, "indicium")
    assert indicium.validation == "custom" and indicium.metadata["validator_python2"] is True
    assert indicium.metadata["validator_runnable"] is False
    assert indicium.metadata["validator_protocol"].startswith("codejam: validator input_file attempt_file")
    mascot = by_id(archive, "mascot_maze")
    assert mascot.metadata["validator_language"] == "cpp" and mascot.metadata["validator_runnable"] is True


def test_missing_files_are_noted_and_the_rest_loads(archive: ProblemSet) -> None:
    # 28 problems lack files (_MISSING_FILES.txt); for 27 of them test data, for one an image
    assert len([p for p in archive if p.metadata.get("archive_missing_files")]) == 28
    assert len([p for p in archive if p.metadata.get("missing_files")]) == 27
    ropes = by_id(archive, "ropes")
    assert ropes.metadata["archive_missing_files"] == ["problem_statement/img/game.gif"]
    fair = by_id(archive, "fair_fight")
    assert fair.metadata["missing_files"] == ["data/secret/subtask2/1.in"]
    assert fair.metadata["incomplete_groups"] == ["secret/subtask2"]
    assert [t.name for t in fair.tests] == ["sample/1", "secret/subtask1/1"]
    sets = {s["group"]: s for s in fair.metadata["test_sets"]}
    assert sets["secret/subtask2"]["complete"] is False and sets["secret/subtask1"]["complete"] is True
    # every part of a split file is missing but one: nothing is joined, all is reported
    fence = by_id(archive, "fence_design")
    assert "data/secret/subtask2/1.in" in fence.metadata["missing_files"]
    assert any("1.ans.part02" in m for m in fence.metadata["missing_files"])
    assert not any(t.name.startswith("secret/subtask2") for t in fence.tests)
    # a group that lost every file is still reported by name
    slide = by_id(archive, "slide_circuits")
    assert "secret/subtask2" in slide.metadata["incomplete_groups"]
    assert "data/secret/subtask2/1.in.part00" in slide.metadata["missing_files"]


def test_colon_in_name_is_repaired(archive: ProblemSet) -> None:
    p = by_id(archive, "new_elements_part_1")
    assert p.title == "New Elements: Part 1"
    assert any("repaired" in n for n in p.metadata["notes"])


def test_a_round_or_a_year_and_limit(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "cc" / "codejam" / "codejam"
    assert [p.id.rsplit("/", 1)[1] for p in load_codejam(root / "2019" / "round_2", cache_dir=tmp_path)] == [
        "new_elements_part_1",
        "pottery_lottery",
        "new_elements_part_2",
        "contransmutation",
    ]
    assert len(load_codejam(root / "2021", cache_dir=tmp_path)) == 27
    assert len(load_codejam(root, limit=3, cache_dir=tmp_path)) == 3
    with pytest.raises(ProblemError, match="not a Code Jam archive"):
        load_codejam(tmp_path)
    with pytest.raises(ProblemError, match="does not exist"):
        load_codejam(tmp_path / "nope")
