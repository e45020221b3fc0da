"""`aiflows train gen` as a user runs it: a subprocess, a YAML file, a progress bar, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _aiflows(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_train_gen_runs_resumes_and_reports(tmp_path):
    (tmp_path / "toy.yaml").write_text("data: 8gaussians\nobjective: splitmeanflow\nhidden: 32\ndepth: 2\n")
    common = ["toy.yaml", "out_dir=run", "eval_every=20", "eval_samples=200", "batch_size=64"]
    first = _aiflows("train", "gen", *common, "steps=20", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "20/20" in first.stderr  # the progress bar
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert report["step"] == 20 and report["eval"]["nfe"] == 1.0
    second = _aiflows("train", "gen", *common, "steps=30", cwd=tmp_path)
    assert second.returncode == 0 and json.loads(second.stdout.splitlines()[-1])["step"] == 30
    assert "30/30" in second.stderr
    assert {p.name for p in (tmp_path / "run").iterdir()} >= {"ckpt.pt", "curves.png", "samples_000020.png"}


def test_bad_config_is_one_line_and_exit_1(tmp_path):
    out = _aiflows("train", "gen", "data=mnist", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1].startswith("ConfigError: file <overrides>: data: Input should be")
    missing = _aiflows("train", "gen", "nope.yaml", cwd=tmp_path)
    assert missing.returncode == 1 and "ConfigError: file nope.yaml: no such file" in missing.stderr


def test_the_digits_meanflow_example_trains(tmp_path):
    example = Path(__file__).resolve().parents[3] / "examples" / "gen_digits_meanflow.yaml"
    args = ["out_dir=run", "steps=10", "hidden=32", "eval_every=10", "eval_samples=100", "batch_size=32"]
    out = _aiflows("train", "gen", str(example), *args, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["step"] == 10 and report["eval"]["nfe"] == 1.0  # one jump from noise to digits
    assert (tmp_path / "run" / "ckpt.pt").is_file()
