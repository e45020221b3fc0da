"""Fixtures for the judge tests: one warm sandboxed Judge per module, and problem builders."""

from __future__ import annotations

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
