"""A newcomer's first session, from the README alone, in a fresh virtual environment.

The package is installed into a new venv (the installed dependencies stay visible behind it), with
an empty home and no keys. In order: the README's Python blocks, the command-line commands it shows
(with the loopback OpenAI-protocol server as the model), then the first mistakes people make, each
of which must end in one line naming what is wrong, no traceback, and the documented exit code.
"""

from __future__ import annotations

import os
import re
import site
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiflows.llm.testing import LoopbackLLMServer, Reply

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with aiflows installed from this checkout (its console script included)."""
    folder = tmp_path_factory.mktemp("venv") / "newcomer"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    purelib = subprocess.run(
        [str(folder / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = "".join(f"import site; site.addsitedir({p!r})\n" for p in site.getsitepackages())
    (Path(purelib) / "installed.pth").write_text(lines)
    subprocess.run(
        [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
        + ["--no-index", "-e", str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A first-day environment: a fresh home, no model, no key, offline for Hugging Face."""
    values = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_API_KEYS")) and k not in ("AIFLOWS_MODEL", "AIFLOWS_API_BASE", "PYTHONPATH")
    }
    values.update(
        HOME=str(tmp_path / "home"),
        AIFLOWS_HOME=str(tmp_path / "home" / ".aiflows"),
        HF_HOME=str(tmp_path / "home" / "hf"),
        HF_HUB_OFFLINE="1",
        LITELLM_LOCAL_MODEL_COST_MAP="True",
        COLUMNS="120",
    )
    return values


@pytest.fixture
def model_server() -> Iterator[LoopbackLLMServer]:
    """An OpenAI-compatible server with one model that answers every problem with the same program."""
    with LoopbackLLMServer(models=["coder"]) as server:
        server.responder = lambda request: Reply(content="```python\nprint(input())\n```")
        yield server


def _aiflows(venv: Path, env: dict[str, str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "aiflows"), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _shown(command: str) -> None:
    """The README shows this command (so the test and the page stay one story)."""
    assert command in README, f"the README no longer shows: {command}"


def _one_line(done: subprocess.CompletedProcess[str], kind: str, code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr + done.stdout, done.stderr
    assert lines[0].startswith(f"{kind}:"), lines[0]
    return lines[0]


def test_the_readme_python_blocks_run_in_order(venv: Path, env: dict[str, str], tmp_path: Path) -> None:
    blocks = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
    assert len(blocks) >= 2
    script = tmp_path / "quickstart.py"
    script.write_text("\n\n".join(blocks))
    done = subprocess.run(
        [str(venv / "bin" / "python"), str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'count': 5" in done.stdout and "'counts': [2, 4]" in done.stdout


def test_the_readme_commands_work(venv: Path, env: dict[str, str], model_server: LoopbackLLMServer, tmp_path) -> None:
    _shown('aiflows run examples/pipeline.yaml --input \'{"text": "a b c"}\'')
    ran = _aiflows(venv, env, "run", "examples/pipeline.yaml", "--input", '{"text": "a b c"}')
    assert ran.returncode == 0, ran.stderr
    run_id = re.search(r"run (\S+) started", ran.stdout + ran.stderr)
    assert run_id is not None, ran.stdout + ran.stderr

    _shown("aiflows runs ")
    runs = _aiflows(venv, env, "runs")
    assert runs.returncode == 0 and run_id.group(1) in runs.stdout
    _shown("aiflows trace RUN_ID ")
    trace = _aiflows(venv, env, "trace", run_id.group(1))
    assert trace.returncode == 0 and "word" in trace.stdout

    _shown("aiflows bench cc --flow Code_Debug --problems")
    out = tmp_path / "bench_runs"
    bench = [
        "bench",
        "cc",
        "--flow",
        "Code",
        "--problems",
        "samples",
        "--limit",
        "2",
        "--model",
        "openai/coder",
        "--api-base",
        model_server.url,
        "--out",
        str(out),
    ]
    first = _aiflows(venv, env, *bench)
    assert first.returncode == 0, first.stderr[-3000:]
    (run,) = out.iterdir()
    assert f"ran 2, reused 0 records of run {run}" in first.stdout and "Code: solved" in first.stdout
    again = _aiflows(venv, env, *bench)
    assert f"ran 0, reused 2 records of run {run}" in again.stdout

    _shown("aiflows bench report bench_runs/")
    report = _aiflows(venv, env, "bench", "report", str(run))
    assert report.returncode == 0 and "Code: solved" in report.stdout

    _shown("aiflows hub new ada/greeter ./greeter && aiflows hub check ./greeter")
    new = _aiflows(venv, env, "hub", "new", "ada/greeter", "./greeter", cwd=tmp_path)
    assert new.returncode == 0, new.stderr
    check = _aiflows(venv, env, "hub", "check", "./greeter", cwd=tmp_path)
    assert check.returncode == 0 and "passed" in check.stdout, check.stdout + check.stderr


def test_the_readme_hub_story_publish_pull_trust_load(venv: Path, env: dict[str, str], tmp_path: Path) -> None:
    """A new flow is 0.1.0, the README's range pulls it, and the trust error's own command works."""
    _shown('aiflows hub pull ada/greeter@">=0.1,<1" --source "git=https://host/{owner}/{name}.git" [--trust]')
    assert _aiflows(venv, env, "hub", "new", "ada/greeter", "./greeter", cwd=tmp_path).returncode == 0
    repos = tmp_path / "repos"
    subprocess.run(["git", "init", "-q", "--bare", str(repos / "ada" / "greeter.git")], check=True)
    published = _aiflows(
        venv, env, "hub", "publish", "./greeter", "--to", (repos / "ada" / "greeter.git").as_uri(), cwd=tmp_path
    )
    assert published.returncode == 0 and "ada/greeter 0.1.0" in published.stdout, published.stderr
    project = tmp_path / "project"
    project.mkdir()
    source = f"git={repos.as_uri()}/{{owner}}/{{name}}.git"
    pulled = _aiflows(
        venv, env, "hub", "pull", 'ada/greeter@">=0.1,<1"'.replace('"', ""), "--source", source, cwd=project
    )
    assert pulled.returncode == 0, pulled.stderr
    load = [str(venv / "bin" / "python"), "-c", "from aiflows import hub; print(hub.load('ada/greeter'))"]
    refused = subprocess.run(load, cwd=project, env=env, capture_output=True, text=True, timeout=120)
    suggested = re.search(r"with `(aiflows hub trust [^`]+)`", refused.stderr)
    assert refused.returncode == 1 and suggested is not None, refused.stderr[-2000:]
    trusted = _aiflows(venv, env, *suggested.group(1).split()[1:], cwd=tmp_path)  # from anywhere, as printed
    assert trusted.returncode == 0, trusted.stderr
    loaded = subprocess.run(load, cwd=project, env=env, capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0 and "Greeter" in loaded.stdout, loaded.stderr[-2000:]


def test_the_readme_redis_commands_work(venv: Path, env: dict[str, str], redis_url: str) -> None:
    """`aiflows serve`, `call` and `status` as the README shows them, on a real redis-server."""
    for command in (
        "aiflows serve examples/pipeline.yaml --redis",
        "aiflows call word_pipeline --input",
        "aiflows status",
    ):
        _shown(command)
    worker = subprocess.Popen(
        [
            str(venv / "bin" / "aiflows"),
            "serve",
            "examples/pipeline.yaml",
            "--redis",
            redis_url,
            "--namespace",
            "newcomer",
        ],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # the worker is up once the status lists its address
            status = _aiflows(venv, env, "status", "--redis", redis_url, "--namespace", "newcomer")
            if "word_pipeline" in status.stdout or time.monotonic() > deadline or worker.poll() is not None:
                break
            time.sleep(0.2)
        assert status.returncode == 0 and "word_pipeline" in status.stdout, status.stdout + status.stderr
        called = _aiflows(
            venv,
            env,
            "call",
            "word_pipeline",
            "--input",
            '{"text": "a b c"}',
            "--redis",
            redis_url,
            "--namespace",
            "newcomer",
        )
        assert called.returncode == 0, called.stderr
        assert "short text (3 words)" in called.stdout
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=30)
    assert "Traceback" not in err, err[-2000:]


def test_first_mistakes_get_one_line_and_the_documented_exit_code(
    venv: Path, env: dict[str, str], model_server: LoopbackLLMServer, tmp_path: Path
) -> None:
    out = str(tmp_path / "bench_runs")
    bench = ["bench", "cc", "--problems", "samples", "--out", out]

    line = _one_line(_aiflows(venv, env, *bench, "--model", "openai/gpt-4o-mini"), "MissingKeyError", 1)
    assert "OPENAI_API_KEY" in line

    unknown = _aiflows(venv, env, *bench, "--model", "openai/codr", "--api-base", model_server.url)
    assert "it serves: coder" in _one_line(unknown, "UnknownModelError", 1)

    wrong_path = _aiflows(venv, env, "bench", "cc", "--problems", "./no/such/problems", "--out", out)
    assert "does not exist" in _one_line(wrong_path, "ProblemError", 1)
    assert not Path(out).exists() and model_server.requests == []  # nothing ran, no folder was made

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    redis = _aiflows(venv, env, "status", "--redis", f"redis://127.0.0.1:{port}/0")
    assert "cannot reach Redis" in _one_line(redis, "RedisBusError", 1)

    hub = _aiflows(venv, env, "hub", "pull", "nobody/nothing", cwd=tmp_path)
    assert "no flow nobody/nothing in any source" in _one_line(hub, "ResolutionError", 1)

    demo = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "aiflows.bench.demo", "--out", out],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "AIFLOWS_MODEL=local:/path/to/model" in _one_line(demo, "ModelUnavailableError", 1)


def test_the_layout_table_lists_only_what_exists() -> None:
    section = README.split("## Layout", 1)[1]
    paths = re.findall(r"^\| `([^`]+)`", section, re.MULTILINE)
    assert paths
    for path in paths:
        assert (REPO / path).exists(), f"the README's layout lists {path}, which does not exist"
