"""Bad problems and bad answers: a clear error naming the problem and the file, and the run goes on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from aiflows.bench import BenchConfig, RecordFile, run_bench
from aiflows.exceptions import ConfigError
from aiflows.problems import SAMPLES_DIR

pytestmark = pytest.mark.slow


def _set(tmp_path: Path, *ids: str) -> Path:
    root = tmp_path / "problems"
    for pid in ids:
        shutil.copytree(SAMPLES_DIR / pid, root / pid)
    return root


def _config(server, out: Path, problems: list[str], **extra: object) -> BenchConfig:
    values: dict[str, object] = {"flow_config": {"chat": {"max_retries": 0}}, **extra}
    return BenchConfig(
        flow="Code_Debug",
        problems=problems,
        out=out,
        model="openai/test-model",
        api_base=server.url,
        jobs=2,
        progress=False,
        **values,
    )


async def test_broken_packages_and_missing_paths_are_recorded_and_the_rest_runs(solving, tmp_path) -> None:
    server, _model = solving
    root = _set(tmp_path, "sum_list", "reverse_words", "count_primes")
    (root / "sum_list" / "problem.yaml").write_text("limits: [unclosed\n")
    (root / "count_primes" / "data" / "secret" / "01.ans").unlink()
    missing = tmp_path / "no-such-problems"
    result = await run_bench(_config(server, tmp_path / "out", [str(root), str(missing)]))

    records = RecordFile(tmp_path / "out").load()
    assert records[("reverse_words", 0)].accepted
    broken = records[("sum_list", 0)]
    assert broken.status == "load_error" and broken.error.type == "ProblemError"
    assert broken.error.file == str(root / "sum_list" / "problem.yaml") and "invalid YAML" in broken.error.message
    no_answer = records[("count_primes", 0)]
    assert no_answer.status == "load_error" and "01.ans" in no_answer.error.message
    lost = records[(missing.name, 0)]
    assert lost.status == "load_error" and lost.error.file == str(missing) and "does not exist" in lost.error.message
    report = result.report
    assert report.problems == 1 and report.solved == 1
    assert {e["problem"] for e in report.errors} == {"sum_list", "count_primes", missing.name}
    assert "invalid YAML" in (tmp_path / "out" / "report.md").read_text()


async def test_a_package_that_breaks_while_judging_is_an_error_record(solving, tmp_path) -> None:
    server, _model = solving
    root = _set(tmp_path, "sum_list", "reverse_words")
    answer = root / "reverse_words" / "data" / "secret" / "01.ans"
    inner = server.responder

    def breaking(request):  # the package loses a file after it was loaded, before it is scored
        answer.unlink(missing_ok=True)
        return inner(request)

    server.responder = breaking
    await run_bench(_config(server, tmp_path / "out", [str(root)]))
    records = RecordFile(tmp_path / "out").load()
    record = records[("reverse_words", 0)]
    assert record.status == "error" and record.error.type == "PackageError"
    assert "reverse_words" in record.error.message and record.error.file == str(answer)
    assert records[("sum_list", 0)].accepted


async def test_no_code_and_programs_that_do_not_run_are_verdicts_not_crashes(solving, tmp_path) -> None:
    server, model = solving
    model.never.add("sum_list")
    inner = server.responder

    def syntax_error(request):
        if model.problem_of(request).id == "reverse_words":
            return "```python\ndef broken(:\n```"
        return inner(request)

    server.responder = syntax_error
    root = _set(tmp_path, "sum_list", "reverse_words", "grid_path")
    result = await run_bench(
        _config(server, tmp_path / "out", [str(root)], flow_config={"chat": {"max_retries": 0}, "debug_rounds": 2})
    )
    records = RecordFile(tmp_path / "out").load()
    no_code = records[("sum_list", 0)]
    assert no_code.status == "done" and no_code.verdict == "NO_CODE" and no_code.code is None
    assert "no ```python code block" in no_code.failure
    broken = records[("reverse_words", 0)]
    assert broken.status == "done" and broken.verdict in ("RTE", "CE") and broken.rounds == 2
    assert records[("grid_path", 0)].accepted
    assert result.report.verdicts == {"AC": 1, "NO_CODE": 1, broken.verdict: 1}


async def test_an_out_folder_of_another_benchmark_is_refused(solving, tmp_path) -> None:
    server, _model = solving
    await run_bench(_config(server, tmp_path / "out", ["samples"], limit=1))
    other = BenchConfig(flow="Code", problems=["samples"], out=tmp_path / "out", progress=False)
    with pytest.raises(ConfigError) as caught:
        await run_bench(other)
    assert caught.value.key == "flow" and "Code_Debug" in str(caught.value) and "run.json" in str(caught.value)


async def test_an_attempt_that_hangs_times_out_and_the_others_finish(solving, tmp_path) -> None:
    server, model = solving
    model.delay = {"sum_list": 20.0}
    root = _set(tmp_path, "sum_list", "reverse_words")
    result = await run_bench(_config(server, tmp_path / "out", [str(root)], attempt_timeout_s=3.0))
    records = RecordFile(tmp_path / "out").load()
    hung = records[("sum_list", 0)]
    assert hung.status == "error" and hung.error.type == "Timeout" and "sum_list" in hung.error.message
    assert records[("reverse_words", 0)].accepted
    assert result.report.problems == 2 and result.report.solved == 1


async def test_a_retry_reruns_failed_attempts_only(solving, tmp_path) -> None:
    server, model = solving
    model.delay = {"sum_list": 20.0}
    root = _set(tmp_path, "sum_list", "reverse_words")
    await run_bench(_config(server, tmp_path / "out", [str(root)], attempt_timeout_s=3.0))
    model.delay = {}
    model.seen.clear()
    again = await run_bench(_config(server, tmp_path / "out", [str(root)], retry_failed=True))
    assert again.ran == 1 and set(model.seen) == {"sum_list"}
    assert all(r.accepted for r in RecordFile(tmp_path / "out").load().values())
