"""The main job: it checks the model before any problem runs, and runs end to end on a local model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _demo(tmp_path: Path, model: str | None, *extra: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["HF_HUB_OFFLINE"] = "1"
    env["HF_HOME"] = str(tmp_path / "hf-empty")  # an empty Hugging Face cache
    env.pop("AIFLOWS_MODEL", None)
    if model is not None:
        env["AIFLOWS_MODEL"] = model
    cmd = [sys.executable, "-m", "aiflows.bench.demo", "--out", str(tmp_path / "out"), "--no-progress", *extra]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_offline_without_the_default_model_it_stops_at_once_and_says_how_to_give_one(tmp_path) -> None:
    done = _demo(tmp_path, None)
    assert done.returncode == 1
    assert done.stderr.startswith("ModelUnavailableError:")
    assert "Qwen/Qwen2.5-Coder-0.5B-Instruct is not in the Hugging Face cache" in done.stderr
    assert "AIFLOWS_MODEL=local:/path/to/model" in done.stderr and "huggingface-cli download" in done.stderr
    assert not (tmp_path / "out").exists()  # no problem ran


def test_a_local_model_folder_that_does_not_exist_is_named(tmp_path) -> None:
    done = _demo(tmp_path, f"local:{tmp_path / 'missing-model'}")
    assert done.returncode == 1
    assert f"no model folder with a config.json at {tmp_path / 'missing-model'}" in done.stderr
    assert not (tmp_path / "out").exists()


def test_demo_runs_code_debug_on_a_sample_with_a_tiny_local_model(tiny_model, tmp_path) -> None:
    done = _demo(tmp_path, f"local:{tiny_model}", "--limit", "1", "-j", "1", timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"model: local:{tiny_model}" in done.stderr
    (run,) = (tmp_path / "out").iterdir()  # the run folder, named by model and key
    assert f"ran 1, reused 0 records of run {run}" in done.stdout and "Code_Debug: solved 0/1" in done.stdout

    from aiflows.bench import RecordFile

    (record,) = RecordFile(run).load().values()
    # Random weights write no code block: every round is a recorded failure, told to the model.
    assert record.status == "done" and record.verdict == "NO_CODE" and record.rounds == 4
    assert record.calls == 4 and record.completion_tokens > 0 and record.model == f"local:{tiny_model}"
    assert record.run_id
    assert (run / "report.png").is_file()
    assert json.loads((run / "run.json").read_text())["model"] == f"local:{tiny_model}"
