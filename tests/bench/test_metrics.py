from __future__ import annotations

import math

import pytest

from aiflows.bench import bootstrap_ci, estimate, mean_pass_at_k, pass_at_k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 1, 1, 1 / 5),  # pass@1 is c/n
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (10, 3, 5, 1 - 21 / 252),  # 1 - C(7,5)/C(10,5)
        (4, 0, 2, 0.0),
        (4, 4, 3, 1.0),
        (6, 4, 3, 1.0),  # fewer than k wrong samples: some correct one is always drawn
        (20, 1, 10, 0.5),  # 1 - C(19,10)/C(20,10) = 1 - 10/20
    ],
)
def test_pass_at_k_matches_hand_computed_values(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_k_is_the_chance_that_a_random_k_subset_holds_a_correct_sample() -> None:
    from itertools import combinations

    n, c, k = 7, 2, 3
    subsets = list(combinations(range(n), k))
    hits = sum(any(i < c for i in s) for s in subsets)
    assert pass_at_k(n, c, k) == pytest.approx(hits / len(subsets))


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 4), (3, 1, 0), (3, -1, 1)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match=f"n={n}, c={c}, k={k}"):
        pass_at_k(n, c, k)


def test_mean_pass_at_k_averages_over_problems() -> None:
    assert mean_pass_at_k([(2, 1), (2, 0), (2, 2)], 1) == pytest.approx((0.5 + 0 + 1) / 3)
    assert mean_pass_at_k([(2, 1), (2, 0), (2, 2)], 2) == pytest.approx((1 + 0 + 1) / 3)
    assert mean_pass_at_k([], 1) == 0.0


def test_bootstrap_interval_contains_the_estimate_and_is_reproducible() -> None:
    values = [1.0] * 30 + [0.0] * 70
    low, high = bootstrap_ci(values)
    assert low < 0.3 < high
    assert (low, high) == bootstrap_ci(values)  # seeded: a rebuilt report gives the same numbers
    # The standard error of a 30% rate over 100 problems is ~4.6 points: a 95% interval is ~±9.
    assert 0.15 < low < 0.25 and 0.35 < high < 0.45
    assert bootstrap_ci([0.5] * 10) == (0.5, 0.5)
    assert bootstrap_ci([]) == (0.0, 0.0)


def test_more_problems_give_a_narrower_interval() -> None:
    few = bootstrap_ci([1.0, 0.0] * 5)
    many = bootstrap_ci([1.0, 0.0] * 200)
    assert (many[1] - many[0]) < (few[1] - few[0])


def test_estimate_reports_the_mean_its_interval_and_the_problem_count() -> None:
    counts = [(5, 1), (5, 0), (5, 5), (5, 2)]
    e = estimate(counts, 2)
    assert e.problems == 4
    assert e.value == pytest.approx(sum(pass_at_k(5, c, 2) for _, c in counts) / 4)
    assert e.low <= e.value <= e.high
    assert not math.isclose(e.low, e.high)
