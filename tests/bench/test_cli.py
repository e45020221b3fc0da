"""`aiflows bench ...` through the real command line entry point (in process)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiflows.cli import main


@pytest.fixture(autouse=True)
def _restore_model_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command sets AIFLOWS_MODEL / AIFLOWS_API_BASE for the chat flows: undo it after each test.
    monkeypatch.setenv("AIFLOWS_MODEL", "")
    monkeypatch.setenv("AIFLOWS_API_BASE", "")


def _args(server, out, *extra: str) -> list[str]:
    return [
        "bench",
        "cc",
        "--problems",
        "samples",
        "--model",
        "openai/test-model",
        "--api-base",
        server.url,
        "--out",
        str(out),
        "--no-progress",
        "--set",
        'chat={"max_retries": 0}',
        *extra,
    ]


def _run_of(stdout: str) -> Path:
    line = next(line for line in stdout.splitlines() if line.startswith("ran "))
    return Path(line.rsplit(" of run ", 1)[1].split(" (", 1)[0])


def test_bench_cc_runs_and_prints_the_summary(solving, tmp_path, capsys) -> None:
    server, _model = solving
    assert main(_args(server, tmp_path / "out", "--limit", "2", "-j", "2", "--set", "debug_rounds=3")) == 0
    out = capsys.readouterr().out
    run = _run_of(out)
    assert run.parent == tmp_path / "out" and run.name.startswith("openai-test-model-")
    assert f"ran 2, reused 0 records of run {run}" in out and "Code_Debug: solved 2/2 (100.0%)" in out
    assert "pass@1: 100.0% [95% CI 100.0, 100.0]" in out and f"plot: {run / 'report.png'}" in out
    recorded = json.loads((run / "run.json").read_text())
    assert recorded["flow_config"]["debug_rounds"] == 3 and recorded["model"] == "openai/test-model"
    assert recorded["api_base"] == server.url and recorded["key"] in run.name

    assert main(["bench", "report", str(run)]) == 0
    assert "solved 2/2" in capsys.readouterr().out


def test_same_settings_reuse_their_run_changed_ones_start_a_new_one_and_resume_continues(
    solving, tmp_path, capsys
) -> None:
    server, model = solving
    base = tmp_path / "out"
    assert main(_args(server, base, "--limit", "1")) == 0
    first = _run_of(capsys.readouterr().out)
    asked = len(model.seen)

    assert main(_args(server, base, "--limit", "1")) == 0  # the same key: the same run, nothing asked again
    out = capsys.readouterr().out
    assert f"ran 0, reused 1 records of run {first}" in out and len(model.seen) == asked

    assert main(_args(server, base, "--limit", "1", "--set", "debug_rounds=1")) == 0  # another flow config
    out = capsys.readouterr().out
    second = _run_of(out)
    assert second != first and second.parent == base and f"ran 1, reused 0 records of run {second}" in out

    # --resume takes the run's settings from its run.json: a second problem joins the first run.
    assert main(["bench", "cc", "--resume", str(first), "--limit", "2", "--no-progress"]) == 0
    assert f"ran 1, reused 1 records of run {first}" in capsys.readouterr().out
    by_name = ["bench", "cc", "--out", str(base), "--resume", first.name, "--no-progress"]  # a run's name will do
    assert main(by_name) == 0 and f"ran 0, reused 2 records of run {first}" in capsys.readouterr().out
    assert main(["bench", "cc", "--resume", str(first), "--model", "openai/other", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ConfigError:") and "that run has model='openai/test-model'" in err


def test_unknown_flow_is_a_clear_error_before_anything_runs(solving, tmp_path, capsys) -> None:
    server, _model = solving
    assert main(_args(server, tmp_path / "out", "--flow", "Code_Dbug")) == 1
    err = capsys.readouterr().err
    assert err.startswith("ConfigError:") and "unknown cc flow 'Code_Dbug'" in err
    assert server.requests == [] and not (tmp_path / "out").exists()


def test_a_source_that_does_not_exist_stops_before_anything_runs(solving, tmp_path, capsys) -> None:
    server, _model = solving
    missing = tmp_path / "nowhere"
    args = _args(server, tmp_path / "out")
    args[args.index("samples")] = str(missing)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("ProblemError:") and str(missing) in err and "does not exist" in err
    assert err.count("\n") == 1 and "Traceback" not in err  # one line
    assert server.requests == [] and not (tmp_path / "out").exists()


def test_bad_set_and_report_without_records(tmp_path, capsys) -> None:
    assert main(["bench", "cc", "--problems", "samples", "--set", "oops", "--out", str(tmp_path / "o")]) == 1
    assert "ConfigError: key 'oops': --set expects KEY=VALUE" in capsys.readouterr().err
    assert main(["bench", "report", str(tmp_path)]) == 1
    assert "no records.jsonl" in capsys.readouterr().err
