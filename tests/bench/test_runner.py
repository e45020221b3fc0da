"""The runner end to end: the sample problems through Code_Debug on a scripted loopback model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiflows.bench import BenchConfig, RecordFile, run_bench
from aiflows.runtime import Runtime

pytestmark = pytest.mark.slow


def config(server, out: Path, **extra: object) -> BenchConfig:
    values: dict[str, object] = {
        "flow": "Code_Debug",
        "problems": ["samples"],
        "out": out,
        "model": "openai/test-model",
        "api_base": server.url,
        "jobs": 3,
        "progress": False,
        "flow_config": {"chat": {"max_retries": 0}},
    }
    values.update(extra)
    return BenchConfig(**values)


async def test_debug_run_solves_every_sample_after_feedback_and_records_it(solving, sample_problems, tmp_path) -> None:
    server, _model = solving
    result = await run_bench(config(server, tmp_path / "out"))

    records = RecordFile(tmp_path / "out").load()
    assert result.ran == len(sample_problems) == len(records)
    for problem in sample_problems:
        record = records[(problem.id, 0)]
        assert record.status == "done" and record.verdict == "AC" and record.accepted, record
        assert record.rounds == 2 and record.sample_verdict == "AC"
        assert record.tests_passed == record.tests_total == len(problem.tests)  # scored on hidden tests too
        assert record.code == min((problem.root / "submissions" / "accepted").glob("*.py")).read_text()
        assert record.prompt_tokens > 0 and record.calls == 2 and record.model == "openai/test-model"
    # Every second coder request carried the judge's feedback on the public samples.
    fixes = [r for r in server.requests if "Result of running your code" in r.messages[-1]["content"]]
    assert len(fixes) == len(sample_problems)
    assert all("public samples" in r.messages[-1]["content"] for r in fixes)
    # The trace id is a real run in the runtime's store.
    async with Runtime() as rt:
        run = await rt.get_run(records[(sample_problems[0].id, 0)].run_id)
    assert run.status == "done" and run.output["code"] == records[(sample_problems[0].id, 0)].code

    report = result.report
    assert report.problems == report.solved == len(sample_problems)
    assert report.pass_at_k["1"].value == 1.0 and report.verdicts == {"AC": len(sample_problems)}
    assert report.total_tokens == sum(r.total_tokens for r in records.values())


async def test_a_rerun_skips_what_is_recorded(solving, tmp_path) -> None:
    server, _model = solving
    await run_bench(config(server, tmp_path / "out", limit=2))
    asked = len(server.requests)
    again = await run_bench(config(server, tmp_path / "out", limit=2))
    assert again.ran == 0 and again.skipped == 2
    assert len(server.requests) == asked  # nothing was asked again
    more = await run_bench(config(server, tmp_path / "out", limit=3))
    assert more.ran == 1 and more.skipped == 2 and more.report.problems == 3


async def test_samples_give_pass_at_k_and_differ_by_seed(solving, tmp_path) -> None:
    server, model = solving
    model.never.add("sum_list")
    result = await run_bench(config(server, tmp_path / "out", flow="Code", samples=3, limit=6))
    report = result.report
    assert set(report.pass_at_k) == {"1", "2", "3"} and report.samples == 3
    # Code has no debug loop: the scripted coder's first answer is always wrong.
    assert report.pass_at_k["3"].value == 0.0
    seeds = {r.body.get("seed") for r in server.requests}
    temperatures = {r.body.get("temperature") for r in server.requests}
    assert seeds == {0, 1, 2} and temperatures == {0.8}
    records = RecordFile(tmp_path / "out").load()
    assert {records[("sum_list", k)].verdict for k in range(3)} == {"NO_CODE"}
    assert "no ```python code block" in records[("sum_list", 0)].failure


async def test_the_llm_cache_is_on_by_default(solving, tmp_path) -> None:
    server, _model = solving
    await run_bench(config(server, tmp_path / "a", limit=2))
    asked = len(server.requests)
    second = await run_bench(config(server, tmp_path / "b", limit=2))
    assert len(server.requests) == asked  # every answer came from the cache
    records = RecordFile(tmp_path / "b").load().values()
    assert all(r.cached_calls == r.calls > 0 and r.accepted for r in records)
    assert second.report.cached_calls == second.report.calls
    off = await run_bench(config(server, tmp_path / "c", limit=1, cache="off"))
    assert len(server.requests) > asked and off.report.cached_calls == 0


async def test_report_files_are_written(solving, tmp_path) -> None:
    server, _model = solving
    out = tmp_path / "out"
    result = await run_bench(config(server, out, limit=2))
    data = json.loads((out / "report.json").read_text())
    assert data["problems"] == 2 and data["pass_at_k"]["1"]["value"] == 1.0
    assert set(data["pass_at_k"]["1"]) == {"value", "low", "high", "problems"}
    markdown = (out / "report.md").read_text()
    assert "# Code_Debug on 2 problems" in markdown and "| 1 | 100.0% [100.0, 100.0] |" in markdown
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.report.files["plot"] == str(out / "report.png")
    assert json.loads((out / "run.json").read_text())["flow"] == "Code_Debug"


async def test_progress_bar_counts_attempts_on_stderr(solving, tmp_path, capsys) -> None:
    server, _ = solving
    seen: list[str] = []
    await run_bench(
        config(server, tmp_path / "out", limit=2, progress=True), on_record=lambda r: seen.append(r.problem_id)
    )
    err = capsys.readouterr().err
    assert "Code_Debug" in err and "2/2" in err and "solved 2" in err
    assert sorted(seen) == ["balanced_brackets", "circle_area"]
