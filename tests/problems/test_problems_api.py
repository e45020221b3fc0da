"""The public surface of `aiflows.problems`: `__all__` is exact and the doc examples run."""

from __future__ import annotations

import doctest
import importlib

import pytest

import aiflows.problems as problems

MODULES = [
    "aiflows.problems",
    "aiflows.problems.errors",
    "aiflows.problems.html_text",
    "aiflows.problems.latex_text",
    "aiflows.problems.loader",
    "aiflows.problems.samples",
    "aiflows.problems.submissions",
]


def test_all_matches_public_names() -> None:
    public = {name for name in vars(problems) if not name.startswith("_")}
    modules = {name for name in public if type(getattr(problems, name)).__name__ == "module"}
    assert set(problems.__all__) == public - modules
    assert problems.__all__ == sorted(problems.__all__)


def test_errors_are_aiflows_errors() -> None:
    from aiflows.exceptions import AiflowsError

    err = problems.ProblemError("broken", problem="p", path="x/problem.yaml", key="name")
    assert isinstance(err, AiflowsError)
    assert str(err) == "problem 'p', file x/problem.yaml, key 'name': broken"
    assert (err.problem, str(err.path), err.key, err.reason) == ("p", "x/problem.yaml", "name", "broken")


@pytest.mark.parametrize("name", MODULES)
def test_doc_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    "name",
    [
        "_files",
        "_jsonl",
        "cc_flows",
        "codejam",
        "config",
        "errors",
        "html_text",
        "humaneval",
        "kattis",
        "latex_text",
        "loader",
        "samples",
        "statement",
        "submissions",
        "testdata",
    ],
)
def test_each_module_exports_what_it_defines(name: str) -> None:
    module = importlib.import_module(f"aiflows.problems.{name}")
    assert all(hasattr(module, n) for n in module.__all__)
    defined = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and getattr(v, "__module__", None) == module.__name__
    }
    assert defined <= set(module.__all__), defined - set(module.__all__)
