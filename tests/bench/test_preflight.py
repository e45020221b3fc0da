"""The model is checked before any problem runs: one line, exit 1, no run folder, no problem asked.

A run whose every attempt failed exits 3. All against a real OpenAI-protocol server on loopback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aiflows.cli import main
from aiflows.llm.testing import LoopbackLLMServer, Reply


@pytest.fixture(autouse=True)
def _restore_model_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIFLOWS_MODEL", "")
    monkeypatch.setenv("AIFLOWS_API_BASE", "")


def _bench(out: Path, *extra: str) -> list[str]:
    return ["bench", "cc", "--problems", "samples", "--limit", "2", "--out", str(out), "--no-progress", *extra]


def _one_line(capsys: pytest.CaptureFixture[str], kind: str) -> str:
    captured = capsys.readouterr()
    assert captured.err.startswith(f"{kind}:"), captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    return captured.err


def test_no_api_key_stops_before_the_run(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("AIFLOWS_OPENAI_API_KEYS", raising=False)
    assert main(_bench(tmp_path / "out", "--model", "openai/gpt-4o-mini")) == 1
    err = _one_line(capsys, "MissingKeyError")
    assert "OPENAI_API_KEY" in err and not (tmp_path / "out").exists()


def test_a_model_the_server_does_not_serve_is_named_with_what_it_serves(solving, tmp_path, capsys) -> None:
    server, _model = solving
    assert main(_bench(tmp_path / "out", "--model", "openai/test-modle", "--api-base", server.url)) == 1
    err = _one_line(capsys, "UnknownModelError")
    assert "does not serve 'test-modle'; it serves: test-model" in err and "--model openai/test-model" in err
    assert server.requests == [] and not (tmp_path / "out").exists()


def test_a_key_the_server_refuses_stops_before_the_run(tmp_path, capsys) -> None:
    with LoopbackLLMServer(models=["m"], api_keys={"sk-right"}) as server:
        assert main(_bench(tmp_path / "out", "--model", "openai/m", "--api-base", server.url)) == 1
        assert server.requests == []
    err = _one_line(capsys, "MissingKeyError")
    assert "refused the api key (HTTP 401)" in err and not (tmp_path / "out").exists()


def test_an_unreachable_server_stops_before_the_run(tmp_path, capsys) -> None:
    with LoopbackLLMServer() as server:
        url = server.url  # closed on exit: nothing listens there any more
    assert main(_bench(tmp_path / "out", "--model", "openai/m", "--api-base", url)) == 1
    err = _one_line(capsys, "ProviderError")
    assert f"cannot reach {url}" in err and "is the server running?" in err


def test_a_context_window_too_small_for_the_prompt_stops_before_the_run(tmp_path, capsys) -> None:
    with LoopbackLLMServer(models=["small"], context_window=64) as server:
        assert main(_bench(tmp_path / "out", "--model", "openai/small", "--api-base", server.url)) == 1
        assert server.requests == []
    err = _one_line(capsys, "ContextLengthError")
    assert "context window of 64 tokens" in err and "the first prompt of problem" in err


def test_an_api_base_without_any_key_is_accepted(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("AIFLOWS_OPENAI_API_KEYS", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with LoopbackLLMServer(models=["qwen"]) as server:  # an echo: no code, but every attempt answered
        server.responder = lambda request: Reply(content="no code today")
        args = _bench(tmp_path / "out", "--model", "openai/qwen", "--api-base", server.url, "--set", "debug_rounds=1")
        assert main(args) == 0
        assert server.requests and {r.api_key for r in server.requests} == {"no-key"}
    assert "solved 0/2" in capsys.readouterr().out


def test_a_run_whose_every_attempt_failed_exits_3(tmp_path, capsys) -> None:
    with LoopbackLLMServer(models=["m"]) as server:
        server.responder = lambda request: Reply.server_error(500)
        args = _bench(
            tmp_path / "out", "--model", "openai/m", "--api-base", server.url, "--set", 'chat={"max_retries": 0}'
        )
        assert main(args) == 3
    captured = capsys.readouterr()
    assert "every attempt failed (2 of 2)" in captured.err and "ProviderError" in captured.err
    assert "errors: 2" in captured.out


def test_reused_errors_are_said_and_retry_failed_runs_them_again(tmp_path, capsys) -> None:
    with LoopbackLLMServer(models=["m"]) as server:
        server.responder = lambda request: Reply.server_error(500)
        args = _bench(
            tmp_path / "out", "--model", "openai/m", "--api-base", server.url, "--set", 'chat={"max_retries": 0}'
        )
        assert main(args) == 3
        (run,) = (tmp_path / "out").iterdir()
        capsys.readouterr()
        server.responder = lambda request: Reply(content="no code")  # the server is fixed
        assert main(args) == 3  # the same run, its records reused: still nothing answered, and it says why
        out = capsys.readouterr().out
        assert f"ran 0, reused 2 records of run {run} (2 of them errors: --retry-failed runs them again)" in out
        assert main([*args, "--retry-failed"]) == 0
        assert f"ran 2, reused 0 records of run {run}" in capsys.readouterr().out


def _local_model(folder: Path, window: int, *, tokenizer: bool = True) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "qwen2", "max_position_embeddings": window}))
    (folder / "model.safetensors").write_bytes(b"")
    if tokenizer:
        (folder / "tokenizer_config.json").write_text("{}")
    return folder


def test_a_local_model_without_a_tokenizer_is_named(tmp_path, capsys) -> None:
    model = _local_model(tmp_path / "m", 4096, tokenizer=False)
    assert main(_bench(tmp_path / "out", "--model", f"local:{model}")) == 1
    err = _one_line(capsys, "ModelUnavailableError")
    assert f"no tokenizer in {model}" in err


def test_a_local_model_whose_window_is_too_small_is_stopped_by_its_config(tmp_path, capsys) -> None:
    model = _local_model(tmp_path / "m", 128)
    assert main(_bench(tmp_path / "out", "--model", f"local:{model}")) == 1
    err = _one_line(capsys, "ContextLengthError")
    assert "context window of 128 tokens" in err and "plus 512 for the answer" in err
