"""The command line: run, runs, trace (tree and JSON lines), and clear errors with non-zero exits."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def aiflows(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiflows.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def run_id_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stderr.split()[1]


def test_help_is_fast_and_lists_the_commands():
    start = time.perf_counter()
    result = aiflows("--help")
    assert result.returncode == 0
    for command in ("run", "resume", "trace", "runs"):
        assert command in result.stdout
    # importing litellm, torch or transformers would take seconds: --help must not
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, aiflows, aiflows.cli; aiflows.cli.build_parser(); "
            "print(sorted(m for m in ('litellm', 'torch', 'transformers', 'redis') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stdout + probe.stderr
    assert time.perf_counter() - start < 60


def test_run_a_yaml_example_then_list_and_trace_it():
    result = aiflows("run", "examples/pipeline.yaml", "--input", '{"text": "a b c d e f g"}')
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "long text (7 words)"
    run_id = run_id_of(result)

    runs = aiflows("runs")
    assert run_id in runs.stdout and "done" in runs.stdout

    tree = aiflows("trace", run_id)
    assert tree.returncode == 0
    for node in ("word_pipeline/tokenize", "word_pipeline/count", "word_pipeline/verdict/long"):
        assert node in tree.stdout
    assert "ms ok" in tree.stdout

    lines = [json.loads(line) for line in aiflows("trace", run_id, "--jsonl").stdout.splitlines()]
    kinds = [(m["kind"], m.get("recipient") or m.get("sender")) for m in lines]
    assert kinds[0] == ("request", "word_pipeline") and kinds[-1] == ("reply", "word_pipeline")
    assert sum(k == "request" for k, _ in kinds) == sum(k == "reply" for k, _ in kinds) == 5


def test_a_failing_run_shows_the_error_in_its_exit_code_and_trace(tmp_path: Path):
    (tmp_path / "bad.py").write_text("def boom(x: int) -> dict:\n    raise ValueError(f'cannot take {x}')\n")
    (tmp_path / "bad.yaml").write_text("name: top\ntype: sequential\nsteps: [{function: bad:boom}]\n")
    result = aiflows("run", "bad.yaml", "--input", '{"x": 3}', cwd=tmp_path)
    assert result.returncode == 1
    assert "ValueError in flow 'top/boom': cannot take 3" in result.stderr
    tree = aiflows("trace", run_id_of(result), cwd=tmp_path)
    assert "error ValueError: cannot take 3" in tree.stdout


def test_run_a_module_reference_with_a_session(tmp_path: Path):
    (tmp_path / "counter.py").write_text(
        "from pydantic import BaseModel\nfrom aiflows import AtomicFlow\n"
        "class Counter(AtomicFlow):\n"
        "    class State(BaseModel):\n        n: int = 0\n"
        "    async def handle(self, ctx, data):\n        ctx.state.n += 1\n        return {'n': ctx.state.n}\n"
    )
    outs = [json.loads(aiflows("run", "counter:Counter", "--session", "s", cwd=tmp_path).stdout)["n"] for _ in range(2)]
    assert outs == [1, 2]
    assert json.loads(aiflows("run", "counter:Counter", "--session", "other", cwd=tmp_path).stdout) == {"n": 1}


def test_bad_command_lines_get_clear_errors(tmp_path: Path):
    bad_json = aiflows("run", "examples/pipeline.yaml", "--input", "{nope")
    assert bad_json.returncode == 1 and bad_json.stderr.startswith("ConfigError: --input is not valid JSON")
    not_object = aiflows("run", "examples/pipeline.yaml", "--input", "[1]")
    assert "must be a JSON object" in not_object.stderr
    missing = aiflows("trace", "no-such-run")
    assert missing.returncode == 1 and "RunNotFound: no run 'no-such-run'" in missing.stderr
    unknown_module = aiflows("run", "nosuch:Flow")
    assert unknown_module.returncode == 1 and "cannot import module 'nosuch'" in unknown_module.stderr
    bad_set = aiflows("run", "examples/pipeline.yaml", "--set", "novalue")
    assert "an override is KEY=VALUE" in bad_set.stderr
