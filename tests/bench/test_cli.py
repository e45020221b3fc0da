"""`aiflows bench ...` through the real command line entry point (in process)."""

from __future__ import annotations

import json

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


def test_bench_cc_runs_and_prints_the_summary(solving, tmp_path, capsys) -> None:
    server, _model = solving
    assert main(_args(server, tmp_path / "out", "--limit", "2", "-j", "2", "--set", "debug_rounds=3")) == 0
    out = capsys.readouterr().out
    assert "ran 2, already recorded 0" in out and "Code_Debug: solved 2/2 (100.0%)" in out
    assert "pass@1: 100.0% [95% CI 100.0, 100.0]" in out and f"plot: {tmp_path / 'out' / 'report.png'}" in out
    assert json.loads((tmp_path / "out" / "run.json").read_text())["flow_config"]["debug_rounds"] == 3

    assert main(["bench", "report", str(tmp_path / "out")]) == 0
    assert "solved 2/2" in capsys.readouterr().out


def test_unknown_flow_is_a_clear_error_before_anything_runs(solving, tmp_path, capsys) -> None:
    server, _model = solving
    assert main(_args(server, tmp_path / "out", "--flow", "Code_Dbug")) == 1
    err = capsys.readouterr().err
    assert err.startswith("ConfigError:") and "unknown cc flow 'Code_Dbug'" in err
    assert server.requests == [] and not (tmp_path / "out").exists()


def test_a_source_that_does_not_exist_is_reported_with_its_path(solving, tmp_path, capsys) -> None:
    server, _model = solving
    missing = tmp_path / "nowhere"
    args = _args(server, tmp_path / "out")
    args[args.index("samples")] = str(missing)
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "no problem could be run" in captured.err and "errors: 1" in captured.out
    report = (tmp_path / "out" / "report.md").read_text()
    assert f"`nowhere`#0 ProblemError ({missing})" in report and "path does not exist" in report


def test_bad_set_and_report_without_records(tmp_path, capsys) -> None:
    assert main(["bench", "cc", "--problems", "samples", "--set", "oops", "--out", str(tmp_path / "o")]) == 1
    assert "ConfigError: key 'oops': --set expects KEY=VALUE" in capsys.readouterr().err
    assert main(["bench", "report", str(tmp_path)]) == 1
    assert "no records.jsonl" in capsys.readouterr().err
