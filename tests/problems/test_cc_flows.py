"""The cc_flows Codeforces schema, on records written here, with the real plans and buckets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from aiflows.problems import ProblemError, load_buckets, load_cc_flows, load_plans


def record(pid: str = "1529A", **over: Any) -> dict[str, Any]:
    """A record shaped like the cc_flows file (field names and types as its schema asserts)."""
    base: dict[str, Any] = {
        "id": pid,
        "id_hash": "abc",
        "contest": 1529,
        "problem_name": "Eshag Loves Big Arrays",
        "problem_url": f"https://codeforces.com/contest/1529/problem/{pid[-1]}",
        "solution_url": "",
        "header": "time limit per test1 second memory limit per test256 megabytes",
        "problem_description": "Delete elements bigger than the average of a chosen subsequence.",
        "input_description": "InputThe first line contains t.",
        "output_description": "OutputPrint the answer.",
        "note": "",
        "difficulty": 800,
        "tags": ["greedy", "math"],
        "working_solution": "",
        "public_tests_io": [[["3", "6", "1 1 1 2 2 3", "6", "9 9 9 9 9 9", "6", "6 4 1 1 4 1"], "3\n0\n3"]],
        "public_tests_individual_io": [[["1", "6", "1 1 1 2 2 3"], "3"], [["1", "6", "9 9 9 9 9 9"], "0"]],
        "hidden_tests_io": [[["1", "2", "1 2"], "1"], [["1", "1", "5"], "0"]],
        "non_unique_output": False,
    }
    base.update(over)
    return base


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text)
    return path


def test_record_becomes_problem_with_tests_on_disk(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "cf.jsonl", [record()])
    (p,) = load_cc_flows(src, cache_dir=tmp_path / "cache")
    assert (p.id, p.title, p.source, p.kind) == ("1529A", "Eshag Loves Big Arrays", "cc_flows", "stdio")
    assert p.time_limit == 1.0 and p.memory_limit_mb == 256
    assert [t.name for t in p.tests] == ["sample/1", "secret/1", "secret/2"]
    sample = p.samples[0]
    assert sample.input_path.read_text() == "3\n6\n1 1 1 2 2 3\n6\n9 9 9 9 9 9\n6\n6 4 1 1 4 1\n"
    assert sample.answer_path.read_text() == "3\n0\n3\n"
    assert p.tests[1].input_path.read_text() == "1\n2\n1 2\n" and p.tests[1].answer_path.read_text() == "1\n"
    assert all(tmp_path / "cache" / "cc_flows" in t.input_path.parents for t in p.tests)
    md = p.metadata
    assert md["difficulty"] == 800 and md["tags"] == ["greedy", "math"] and md["note"] is None
    assert md["input_description"] == "The first line contains t."
    assert md["public_tests_individual"][1] == {"input": "1\n6\n9 9 9 9 9 9\n", "output": "0\n"}
    assert p.statement.startswith("# Eshag Loves Big Arrays\n\nDelete elements")
    assert "## Input\n\nThe first line contains t." in p.statement and "## Sample 1" in p.statement
    # loading again reuses the same content-named folder
    (again,) = load_cc_flows(src, cache_dir=tmp_path / "cache")
    assert again.tests == p.tests


def test_alternative_spellings_and_gzip(tmp_path: Path) -> None:
    rec = record("1735A")
    for old, new in (
        ("public_tests_io", "public_test_io"),
        ("hidden_tests_io", "hidden_test_io"),
        ("difficulty", "rating"),
        ("problem_name", "name"),
    ):
        rec[new] = rec.pop(old)
    rec["hidden_test_io"] = [{"input": "1\n1\n5\n", "output": "0"}]
    src = write_jsonl(tmp_path / "cf.jsonl.gz", [rec])
    (p,) = load_cc_flows(src, cache_dir=tmp_path)
    assert p.metadata["rating"] == 800 and p.title == "Eshag Loves Big Arrays"
    assert [t.name for t in p.tests] == ["sample/1", "secret/1"]
    assert p.tests[1].answer_path.read_text() == "0\n"


def test_bad_lines_are_reported_and_the_rest_loads(tmp_path: Path) -> None:
    src = write_jsonl(
        tmp_path / "cf.jsonl",
        [
            record("1409A"),
            "{not json",
            record("1417A", problem_description=None),
            record("1426A", hidden_tests_io=[["only one element"]]),
            "[1, 2]",
            record("1430B"),
        ],
    )
    s = load_cc_flows(src, cache_dir=tmp_path)
    assert [p.id for p in s] == ["1409A", "1430B"]
    assert len(s.errors) == 4
    json_err, missing, bad_tests, not_object = s.errors
    assert json_err.key == "line 2" and "not valid JSON" in str(json_err) and json_err.path == src
    assert missing.problem == "1417A" and missing.key == "problem_description" and "line 3" in str(missing)
    assert bad_tests.problem == "1426A" and bad_tests.key == "hidden_tests_io" and "[input, output]" in str(bad_tests)
    assert not_object.key == "line 5" and "expected a JSON object" in str(not_object)
    assert [p.id for p in load_cc_flows(src, limit=1, cache_dir=tmp_path)] == ["1409A"]
    with pytest.raises(ProblemError, match="does not exist"):
        load_cc_flows(tmp_path / "missing.jsonl")


def test_real_plans_and_buckets_attach(cc_data: Path, tmp_path: Path) -> None:
    plans_dir = cc_data / "cc_flows" / "plans"
    plans = load_plans(plans_dir / "codeforces_800_editorials.jsonl")
    temporal = load_plans(plans_dir / "codeforces_800_editorials_temporal.jsonl")
    assert len(plans) == 132 and len(temporal) == 235
    assert plans["1529A"].startswith("We state that every element except for the elements with the smallest")
    bucketing = cc_data / "cc_flows" / "evaluation_bucketing"
    buckets = load_buckets(bucketing / "codeforces_800_cutoff_buckets_clean.json")
    assert buckets["1529A"] == ["before_cutoff"] and buckets["1798A"] == ["after_cutoff"]
    assert sum(b == ["before_cutoff"] for b in buckets.values()) == 64
    src = write_jsonl(tmp_path / "cf.jsonl", [record("1529A"), record("9999Z")])
    s = load_cc_flows(
        src,
        plans=plans_dir / "codeforces_800_editorials.jsonl",
        buckets=bucketing / "codeforces_800_cutoff_buckets_clean.json",
        cache_dir=tmp_path,
    )
    first, unknown = s
    assert first.metadata["plan"] == plans["1529A"] and first.metadata["bucket"] == "before_cutoff"
    assert "plan" not in unknown.metadata and "buckets" not in unknown.metadata
    temporal_buckets = load_buckets(bucketing / "codeforces_800_temporal_buckets.json")
    assert len(temporal_buckets["1411A"]) > 1  # sliding windows overlap


def test_plans_file_errors(tmp_path: Path) -> None:
    bad = write_jsonl(tmp_path / "plans.jsonl", [{"id": "1A", "plan": "x"}, {"id": "2A"}])
    with pytest.raises(ProblemError, match="'id' and 'plan'") as info:
        load_plans(bad)
    assert info.value.key == "line 2" and info.value.path == bad
    with pytest.raises(ProblemError, match="does not exist"):
        load_plans(tmp_path / "none.jsonl")
    (tmp_path / "b.json").write_text("[1]")
    with pytest.raises(ProblemError, match="mapping of bucket name"):
        load_buckets(tmp_path / "b.json")
