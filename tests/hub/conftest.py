"""Hub test fixtures: real git repositories, a real `git daemon`, a scratch AIFLOWS_HOME.

`flowrepos` builds bare repositories (one per flow, several tagged versions, dependencies between
them) under a base folder that `git daemon` serves on loopback, with receive-pack on for publish:

    ada/fmt       v1.0.0 v1.5.0 v2.0.0     upper-cases text (2.0.0 also adds "!")
    ada/greeter   v1.0.0 (fmt>=1,<2)  v1.1.0 (fmt>=1.5,<2)   calls ada/fmt through hub.load
    ada/app       v1.0.0 (greeter>=1.1, fmt>=2)              unsatisfiable: a conflict
    ada/future    v1.0.0                                     requires aiflows>=9
    ada/marker    v1.0.0                                     writes a file when imported
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@t",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@t",
}

FLOW_CODE = """
from pydantic import BaseModel
from aiflows import AtomicFlow


class Flow(AtomicFlow):
    class Input(BaseModel):
        text: str

    class Output(BaseModel):
        text: str

    class Config(BaseModel):
        suffix: str = "{suffix}"

    async def handle(self, ctx, data):
        return {{"text": data.text.upper() + self.config.suffix}}
"""

GREETER_CODE = """
from pydantic import BaseModel
from aiflows import CompositeFlow, hub


class Flow(CompositeFlow):
    class Input(BaseModel):
        name: str

    class Output(BaseModel):
        text: str

    class Config(BaseModel):
        greeting: str = "hello"

    def __init__(self, **kwargs):
        super().__init__(subflows={"fmt": hub.load("ada/fmt")}, **kwargs)

    async def handle(self, ctx, data):
        out = await self.call("fmt", {"text": f"{self.config.greeting} {data.name}"})
        return {"text": out["text"]}
"""

MARKER_CODE = """
import os
from pathlib import Path
Path(os.environ["HUB_MARKER"]).write_text("imported")
from pydantic import BaseModel
from aiflows import AtomicFlow


class Flow(AtomicFlow):
    class Input(BaseModel):
        text: str

    class Output(BaseModel):
        text: str

    async def handle(self, ctx, data):
        return {"text": data.text}
"""


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout.strip()


def flow_files(
    name: str,
    version: str,
    *,
    deps: dict[str, str] | None = None,
    code: str | None = None,
    requires: str = ">=0.1,<0.2",
    config: dict | None = None,
) -> dict[str, str]:
    """The files of a small hub flow."""
    manifest = {
        "name": name,
        "version": version,
        "description": f"{name} for tests",
        "entrypoint": "flow:Flow",
        "requires-aiflows": requires,
        "dependencies": deps or {},
        "config": config or {},
    }
    return {
        "flow.yaml": yaml.safe_dump(manifest, sort_keys=False),
        "flow.py": code if code is not None else FLOW_CODE.format(suffix=""),
        "README.md": f"# {name}\n",
        "tests/test_flow.py": "def test_ok():\n    assert True\n",
    }


def write_files(folder: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@dataclass
class FlowRepos:
    base: Path  # holds <owner>/<name>.git
    work: Path

    def bare(self, name: str) -> Path:
        return self.base / f"{name}.git"

    def file_template(self) -> str:
        return f"file://{self.base}/{{owner}}/{{name}}.git"

    def add_version(
        self, name: str, version: str, files: dict[str, str], *, tag: bool = True, branch: str = "main"
    ) -> str:
        """Commit `files` (replacing the previous tree) to `name`'s repo; tag `v<version>`; return the commit."""
        bare = self.bare(name)
        wt = self.work / name
        if not bare.exists():
            bare.parent.mkdir(parents=True, exist_ok=True)
            git("init", "-q", "--bare", "-b", "main", str(bare))
            wt.mkdir(parents=True)
            git("init", "-q", "-b", "main", cwd=wt)
        for child in wt.iterdir():
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        write_files(wt, files)
        git("checkout", "-q", "-B", branch, cwd=wt)
        git("add", "-A", cwd=wt)
        git("commit", "-q", "-m", f"{name} {version}", cwd=wt)
        if tag:
            git("tag", f"v{version}", cwd=wt)
        git("push", "-q", "--force", str(bare), branch, "--tags", cwd=wt)  # copies of this tree push to their own
        return git("rev-parse", "HEAD", cwd=wt)


def build_flowrepos(root: Path) -> FlowRepos:
    repos = FlowRepos(base=root / "repos", work=root / "work")
    repos.add_version("ada/fmt", "1.0.0", flow_files("ada/fmt", "1.0.0"))
    repos.add_version("ada/fmt", "1.5.0", flow_files("ada/fmt", "1.5.0"))
    repos.add_version("ada/fmt", "2.0.0", flow_files("ada/fmt", "2.0.0", code=FLOW_CODE.format(suffix="!")))
    repos.add_version(
        "ada/greeter",
        "1.0.0",
        flow_files("ada/greeter", "1.0.0", deps={"ada/fmt": ">=1,<2"}, code=GREETER_CODE, config={"greeting": "hi"}),
    )
    repos.add_version(
        "ada/greeter",
        "1.1.0",
        flow_files(
            "ada/greeter", "1.1.0", deps={"ada/fmt": ">=1.5,<2"}, code=GREETER_CODE, config={"greeting": "hello"}
        ),
    )
    repos.add_version(
        "ada/app", "1.0.0", flow_files("ada/app", "1.0.0", deps={"ada/greeter": ">=1.1", "ada/fmt": ">=2"})
    )
    repos.add_version("ada/future", "1.0.0", flow_files("ada/future", "1.0.0", requires=">=9"))
    repos.add_version("ada/marker", "1.0.0", flow_files("ada/marker", "1.0.0", code=MARKER_CODE))
    return repos


@pytest.fixture(scope="session")
def _flowrepos_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flowrepos")
    build_flowrepos(root)
    return root


@pytest.fixture
def flowrepos(_flowrepos_template: Path, tmp_path: Path) -> FlowRepos:
    """A fresh copy of the standard repositories (tests may change them)."""
    root = tmp_path / "flowrepos"
    shutil.copytree(_flowrepos_template, root, symlinks=True)
    return FlowRepos(base=root / "repos", work=root / "work")


@pytest.fixture(autouse=True)
def hub_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch AIFLOWS_HOME and project folder (the current directory) for every test."""
    home = tmp_path / "home"
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.setenv("AIFLOWS_HOME", str(home))
    monkeypatch.chdir(project)
    return home


@pytest.fixture
def project(hub_home: Path) -> Path:
    return Path.cwd()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def git_daemon(flowrepos: FlowRepos) -> Iterator[str]:
    """`git daemon` serving `flowrepos.base` on loopback (push allowed); yields the git:// base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            f"--base-path={flowrepos.base}",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--informative-errors",
            str(flowrepos.base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("git daemon did not start") from None
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
