"""Resumability for real: kill the CLI in the middle of a run, run it again, nothing done is redone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aiflows.bench import ProblemRecord, RecordFile

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _bench(server, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "aiflows.cli",
        "bench",
        "cc",
        "--flow",
        "Code_Debug",
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


def _run_dir(out: Path) -> Path:
    """The one run folder under `out` (the folder of runs), or `out` itself while there is none."""
    runs = sorted(out.iterdir()) if out.is_dir() else []
    return runs[0] if len(runs) == 1 else out


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


@pytest.mark.chaos
def test_killed_run_resumes_without_redoing_finished_problems(solving, sample_problems, tmp_path) -> None:
    server, model = solving
    first, *others = sorted(p.id for p in sample_problems)
    model.delay = {pid: 30.0 for pid in others}  # only the first problem can finish before the kill
    out = tmp_path / "out"
    proc = subprocess.Popen(
        _bench(server, out, "-j", "1"), cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not RecordFile(_run_dir(out)).load() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        run = _run_dir(out)
        assert set(RecordFile(run).load()) == {(first, 0)}, proc.stderr.read().decode() if proc.poll() else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    model.delay = {}
    model.seen.clear()
    done = subprocess.run(
        _bench(server, out, "-j", "3"), cwd=REPO, env=_env(), capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert f"ran {len(others)}, reused 1 records of run {run}" in done.stdout
    assert first not in model.seen  # the finished problem was not asked again
    assert _run_dir(out) == run  # the same settings continue the same run folder
    records = RecordFile(run).load()
    assert set(records) == {(p.id, 0) for p in sample_problems}
    assert all(r.accepted for r in records.values())
    assert f"solved {len(sample_problems)}/{len(sample_problems)}" in done.stdout


def test_a_line_cut_short_by_a_kill_is_ignored(tmp_path) -> None:
    records = RecordFile(tmp_path)
    records.append(ProblemRecord(problem_id="a", status="done", flow="Code", model="m", accepted=True))
    with records.path.open("a") as fh:
        fh.write('{"problem_id": "b", "status": "do')
    assert list(records.load()) == [("a", 0)]


def test_later_lines_win(tmp_path) -> None:
    records = RecordFile(tmp_path)
    records.append(ProblemRecord(problem_id="a", status="error", flow="Code", model="m"))
    records.append(ProblemRecord(problem_id="a", status="done", flow="Code", model="m", accepted=True))
    assert records.load()[("a", 0)].status == "done"
