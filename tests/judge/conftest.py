"""Fixtures for the judge tests: one warm sandboxed Judge per module, problem builders, and the
shared problem packages."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aiflows.judge import Judge, JudgeConfig
from aiflows.problems.model import Problem, TestCase


@pytest.fixture(scope="module")
def judger() -> Iterator[Judge]:
    with Judge(JudgeConfig(jobs=2, time_limit_cap=2.0)) as j:
        yield j


MakeProblem = Callable[..., Problem]


@pytest.fixture
def make_problem(tmp_path: Path) -> MakeProblem:
    """Write tests to a package-like folder and return the `Problem` (stdio, default validation)."""

    def make(tests: list[tuple[str, str]], *, samples: int = 1, **fields: object) -> Problem:
        root = tmp_path / str(fields.get("id", "prob"))
        data = root / "data"
        cases = []
        for i, (given, wanted) in enumerate(tests):
            group = "sample" if i < samples else "secret"
            (data / group).mkdir(parents=True, exist_ok=True)
            inp, ans = data / group / f"{i}.in", data / group / f"{i}.ans"
            inp.write_text(given)
            ans.write_text(wanted)
            cases.append(TestCase(name=f"{group}/{i}", input_path=inp, answer_path=ans, is_sample=i < samples))
        fields.setdefault("id", "prob")
        fields.setdefault("title", "A test problem")
        fields.setdefault("time_limit", 1.0)
        return Problem(root=root, tests=cases, **fields)  # type: ignore[arg-type]

    return make


CC_DATA = Path(os.environ.get("AIFLOWS_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")) / "cc"

WritePackage = Callable[[Path, dict[str, str]], Path]


def _write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def write_package() -> WritePackage:
    """Write a package from {relative path: text} and return its root."""
    return _write_package


@pytest.fixture
def cc_data() -> Path:
    """The shared competitive-coding packages; tests that need them skip where they are absent."""
    if not CC_DATA.is_dir():
        pytest.skip(f"no shared data at {CC_DATA}")
    return CC_DATA
