"""The report from records alone: pass@k over problems, the breakdown, errors, tokens."""

from __future__ import annotations

import json

import pytest

from aiflows.bench import ProblemRecord, RecordError, RecordFile, build_report, pass_at_k, write_report


def _rec(pid: str, sample: int, accepted: bool, **extra: object) -> ProblemRecord:
    values: dict[str, object] = {
        "problem_id": pid,
        "sample": sample,
        "status": "done",
        "flow": "Code_Debug",
        "model": "m",
        "accepted": accepted,
        "verdict": "AC" if accepted else "WA",
        "total_tokens": 10,
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "calls": 1,
        "cost_usd": 0.01,
    }
    values.update(extra)
    return ProblemRecord(**values)


def _records() -> list[ProblemRecord]:
    # a: 2 of 3 correct (800); b: 0 of 3 (800); c: 3 of 3 (1200); plus a problem that did not load
    return [
        *(_rec("a", k, k < 2, difficulty="800") for k in range(3)),
        *(_rec("b", k, False, difficulty="800", verdict="NO_CODE" if k == 0 else "WA") for k in range(3)),
        *(_rec("c", k, True, difficulty="1200") for k in range(3)),
        ProblemRecord(
            problem_id="broken",
            status="load_error",
            flow="Code_Debug",
            model="m",
            error=RecordError(type="ProblemError", message="invalid YAML", file="/x/problem.yaml"),
        ),
    ]


def test_pass_at_k_solve_rate_and_breakdown_from_hand_computed_values() -> None:
    report = build_report(_records())
    assert (report.problems, report.attempts, report.samples, report.solved) == (3, 9, 3, 2)
    assert report.solve_rate == pytest.approx(2 / 3)
    assert report.pass_at_k["1"].value == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert report.pass_at_k["2"].value == pytest.approx((1 + 0 + 1) / 3)  # a: 1 - C(1,2)/C(3,2) = 1
    assert report.pass_at_k["2"].value == pytest.approx(sum(pass_at_k(3, c, 2) for c in (2, 0, 3)) / 3)
    assert set(report.pass_at_k) == {"1", "2", "3"}
    for e in report.pass_at_k.values():
        assert e.low <= e.value <= e.high and e.problems == 3
    assert report.breakdown_by == "difficulty"
    assert [(g.name, g.problems, g.solved) for g in report.breakdown] == [("800", 2, 1), ("1200", 1, 1)]
    assert report.breakdown[0].pass_at_1.value == pytest.approx((2 / 3 + 0) / 2)
    assert report.verdicts == {"AC": 5, "WA": 3, "NO_CODE": 1}
    assert report.errors == [
        {
            "problem": "broken",
            "sample": 0,
            "status": "load_error",
            "type": "ProblemError",
            "message": "invalid YAML",
            "file": "/x/problem.yaml",
        }
    ]
    assert (report.total_tokens, report.calls) == (90, 9) and report.cost_usd == pytest.approx(0.09)


def test_buckets_are_used_when_there_is_no_difficulty() -> None:
    records = [_rec("a", 0, True, buckets=["before_cutoff"]), _rec("b", 0, False, buckets=["after_cutoff"])]
    report = build_report(records)
    assert report.breakdown_by == "bucket"
    assert {g.name: g.solved for g in report.breakdown} == {"after_cutoff": 0, "before_cutoff": 1}


def test_write_report_rebuilds_the_files_from_the_records(tmp_path) -> None:
    records = RecordFile(tmp_path)
    for record in _records():
        records.append(record)
    report = write_report(tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["solved"] == 2 and data["pass_at_k"]["3"]["value"] == pytest.approx(2 / 3)
    markdown = (tmp_path / "report.md").read_text()
    assert "| 800 | 2 | 1 |" in markdown and "`broken`#0 ProblemError (/x/problem.yaml): invalid YAML" in markdown
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
    rebuilt = build_report(list(records.load().values()))
    assert report.model_copy(update={"files": {}}) == rebuilt  # the same numbers, every time


def test_a_run_without_the_sandbox_says_so_in_its_report() -> None:
    from aiflows.bench.report import to_markdown

    isolated = build_report(_records(), meta={"sandbox": "auto"})
    bare = build_report(_records(), meta={"sandbox": "none"})
    assert isolated.sandbox == "bwrap" and "judge sandbox: bubblewrap" in to_markdown(isolated)
    assert bare.sandbox == "none" and "judge sandbox: **none** (programs ran unisolated" in to_markdown(bare)
