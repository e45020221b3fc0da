"""Hub speed: pulling a flow with 10 dependencies from real git repositories.

    python benchmarks/hub.py [--repeats 5]

Builds, in a temporary folder, 11 bare git repositories (`bench/app` depending on `bench/dep0` ..
`bench/dep9`, each with three tagged versions) and measures, each as the median of `--repeats` runs:

- cold_ms: `pull bench/app` with an empty AIFLOWS_HOME (fetch 11 repos, resolve, hash, write the cache and lock)
- warm_pull_ms: the same pull again, cache and mirrors warm
- warm_ms: `hub.load("bench/app")` in a warm process: verify the hashes of the app and its 10 dependencies
  against the lock and build all 11 flows (goal: under 50 ms)
- first_load_ms: the first such load in a fresh process, importing the flows' code as well
- sync_ms: `sync` from the lock with an empty AIFLOWS_HOME (what another machine does)
- git_clone_ms: the peer baseline, plain `git clone` of the same 11 repositories (no resolution, no hashing)

The last line is `RESULT cold_ms=... warm_ms=... sync_ms=... ...`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

N_DEPS = 10
VERSIONS = ("1.0.0", "1.1.0", "1.2.0")
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@b",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@b",
}

DEP_CODE = """from pydantic import BaseModel
from aiflows import AtomicFlow


class Flow(AtomicFlow):
    class Input(BaseModel):
        x: int

    class Output(BaseModel):
        x: int

    async def handle(self, ctx, data):
        return {"x": data.x + 1}
"""

APP_CODE = f"""from pydantic import BaseModel
from aiflows import CompositeFlow, hub


class Flow(CompositeFlow):
    class Input(BaseModel):
        x: int

    class Output(BaseModel):
        x: int

    def __init__(self, **kwargs):
        deps = {{f"d{{i}}": hub.load(f"bench/dep{{i}}") for i in range({N_DEPS})}}
        super().__init__(subflows=deps, **kwargs)

    async def handle(self, ctx, data):
        x = data.x
        for i in range({N_DEPS}):
            x = (await self.call(f"d{{i}}", {{"x": x}}))["x"]
        return {{"x": x}}
"""


def git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True)


def manifest(name: str, version: str, deps: dict[str, str]) -> str:
    lines = [
        f"name: {name}",
        f"version: {version}",
        "description: benchmark flow",
        "entrypoint: flow:Flow",
        'requires-aiflows: ">=0.1,<0.2"',
        "dependencies:",
    ]
    lines += [f'  {d}: "{spec}"' for d, spec in deps.items()] or ["  {}"]
    return "\n".join(lines).replace("dependencies:\n  {}", "dependencies: {}") + "\n"


def make_repo(base: Path, work: Path, name: str, code: str, deps: dict[str, str]) -> None:
    bare, wt = base / f"{name}.git", work / name
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "--bare", str(bare))
    wt.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=wt)
    for version in VERSIONS:
        (wt / "flow.yaml").write_text(manifest(name, version, deps))
        (wt / "flow.py").write_text(code + f"\n# version {version}\n")
        (wt / "README.md").write_text(f"# {name}\n")
        (wt / "tests").mkdir(exist_ok=True)
        (wt / "tests" / "test_flow.py").write_text("def test_ok():\n    assert True\n")
        git("add", "-A", cwd=wt)
        git("commit", "-q", "-m", version, cwd=wt)
        git("tag", f"v{version}", cwd=wt)
    git("push", "-q", str(bare), "main", "--tags", cwd=wt)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


FIRST_LOAD = """
import sys, time
sys.path.insert(0, {root!r})
from aiflows import hub
t = time.perf_counter()
flow = hub.load("bench/app")
ms = (time.perf_counter() - t) * 1000
assert flow.run_sync({{"x": 0}}) == {{"x": {n}}}
print(ms)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (median reported)")
    args = parser.parse_args()

    from aiflows import hub
    from aiflows.hub import Hub

    tmp = Path(tempfile.mkdtemp(prefix="aiflows-hub-bench-"))
    try:
        base, work, project = tmp / "repos", tmp / "work", tmp / "project"
        for i in range(N_DEPS):
            make_repo(base, work, f"bench/dep{i}", DEP_CODE, {})
        make_repo(base, work, "bench/app", APP_CODE, {f"bench/dep{i}": ">=1.0,<2" for i in range(N_DEPS)})
        project.mkdir()
        source = f"file://{base}/{{owner}}/{{name}}.git"
        (project / "hub.yaml").write_text(f"sources:\n  - name: bench\n    git: '{source}'\n    trusted: true\n")
        os.chdir(project)

        cold, warm_pull, sync, clone = [], [], [], []
        for r in range(args.repeats):
            os.environ["AIFLOWS_HOME"] = str(tmp / f"home-cold-{r}")
            (project / "flows.lock").unlink(missing_ok=True)
            cold.append(timed(lambda: Hub(project).pull(["bench/app"])))
            warm_pull.append(timed(lambda: Hub(project).pull(["bench/app"])))
            os.environ["AIFLOWS_HOME"] = str(tmp / f"home-sync-{r}")
            sync.append(timed(lambda: Hub(project).sync()))
            dest = tmp / f"clones-{r}"
            clone.append(
                timed(
                    lambda dest=dest: [
                        git("clone", "-q", "--bare", f"file://{base}/{n}.git", str(dest / n))
                        for n in [*(f"bench/dep{i}" for i in range(N_DEPS)), "bench/app"]
                    ]
                )
            )

        lock = Hub(project).sync()
        assert len(lock.flows) == N_DEPS + 1 and lock.flows["bench/app"].version == VERSIONS[-1]
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        script = FIRST_LOAD.format(root=str(Path(__file__).resolve().parents[1]), n=N_DEPS)
        first = [
            float(
                subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
                .stdout.strip()
                .splitlines()[-1]
            )
            for _ in range(args.repeats)
        ]
        hub.load("bench/app")  # import the flows' code once
        warm = [timed(lambda: hub.load("bench/app")) for _ in range(max(20, args.repeats))]
        assert hub.load("bench/app").run_sync({"x": 0}) == {"x": N_DEPS}

        med = {
            k: statistics.median(v)
            for k, v in {
                "cold_ms": cold,
                "warm_ms": warm,
                "sync_ms": sync,
                "warm_pull_ms": warm_pull,
                "first_load_ms": first,
                "git_clone_ms": clone,
            }.items()
        }
        print(f"flows: 1 app + {N_DEPS} dependencies, {len(VERSIONS)} tagged versions each, file:// git remotes")
        for key, value in med.items():
            print(f"  {key:14} {value:8.1f} ms")
        print(
            f"  pull vs plain clone: {med['cold_ms'] / med['git_clone_ms']:.2f}x;"
            f" warm load goal < 50 ms: {'met' if med['warm_ms'] < 50 else 'missed'}"
        )
        print("RESULT " + " ".join(f"{k}={v:.1f}" for k, v in med.items()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
