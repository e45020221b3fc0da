"""The small problem set shipped with aiflows, for demos and quick tests.

Six easy-to-moderate problems in the package format (`samples/<id>/`), each with a statement,
sample and secret tests, reference solutions in `submissions/accepted/` and at least one
`wrong_answer` submission (some also carry a `run_time_error` or `time_limit_exceeded` one):
sum_list, reverse_words, count_primes, balanced_brackets, grid_path, circle_area (float tolerance).
"""

from __future__ import annotations

from pathlib import Path

from aiflows.problems.errors import ProblemSet
from aiflows.problems.kattis import load_packages

__all__ = ["DIFFICULTY", "SAMPLES_DIR", "load_samples"]

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
# For per-difficulty breakdowns of demo runs.
DIFFICULTY = {
    "sum_list": "easy",
    "reverse_words": "easy",
    "count_primes": "easy",
    "balanced_brackets": "medium",
    "circle_area": "medium",
    "grid_path": "medium",
}


def load_samples(*, limit: int | None = None, cache_dir: Path | None = None) -> ProblemSet:
    """Load the shipped sample problems (source `"samples"`).

    Example:
        >>> sorted(p.id for p in load_samples())[:2]
        ['balanced_brackets', 'circle_area']
    """
    loaded = load_packages(SAMPLES_DIR, limit=limit, source="samples", cache_dir=cache_dir)
    problems = [
        p.model_copy(update={"metadata": {**p.metadata, "difficulty": DIFFICULTY.get(p.id, "medium")}}) for p in loaded
    ]
    return ProblemSet(problems, errors=loaded.errors)
