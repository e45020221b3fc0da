"""Group advantages on hand-made groups, credit modes and truncated rows."""

from __future__ import annotations

import random

import pytest

from training.flow_grpo import Row, Trajectory, compute_advantages


def _traj(q: str, g: int, reward: float, turns: int = 2, truncated: tuple[int, ...] = ()) -> Trajectory:
    rows = [
        Row(
            query_id=q,
            rollout_id=f"{q}-{g}",
            turn=k,
            prompt_ids=[1, 2],
            response_ids=[3, 4],
            old_logprobs=[-1.0, -1.0],
            truncated=k in truncated,
        )
        for k in range(turns)
    ]
    return Trajectory(query_id=q, rollout_id=f"{q}-{g}", reward=reward, rows=rows, turns=turns)


def test_group_normalised_and_zero_variance_skipped() -> None:
    batch = [_traj("a", 0, 1.0), _traj("a", 1, 0.0), _traj("b", 0, 1.0), _traj("b", 1, 1.0), _traj("c", 0, 1.0)]
    rows, stats = compute_advantages(batch)
    assert stats.groups == 3 and stats.zero_variance_groups == 2  # b flat, c a single element
    assert stats.zero_variance_fraction == pytest.approx(2 / 3)
    assert {r.query_id for r in rows} == {"a"} and len(rows) == 4
    by_rollout = {r.rollout_id: r.advantage for r in rows}
    assert by_rollout["a-0"] == pytest.approx(1.0, abs=1e-5) and by_rollout["a-1"] == pytest.approx(-1.0, abs=1e-5)
    assert len({r.key for r in rows}) == len(rows)  # every row unique


def test_three_member_group_values() -> None:
    rows, _ = compute_advantages([_traj("q", 0, 1.0, 1), _traj("q", 1, 0.0, 1), _traj("q", 2, 0.0, 1)])
    mean, std = 1 / 3, (2 / 9) ** 0.5
    assert [r.advantage for r in rows] == pytest.approx([(1 - mean) / std, -mean / std, -mean / std], rel=1e-4)


def test_broadcast_against_last_turn() -> None:
    batch = [_traj("a", 0, 1.0, 3), _traj("a", 1, 0.0, 3)]
    broadcast, _ = compute_advantages(batch, credit="broadcast")
    last, _ = compute_advantages(batch, credit="last_turn")
    assert [round(r.advantage, 4) for r in broadcast] == [1.0, 1.0, 1.0, -1.0, -1.0, -1.0]
    assert [round(r.advantage, 4) for r in last] == [0.0, 0.0, 1.0, 0.0, 0.0, -1.0]


def test_shuffled_permutes_rewards_across_batch() -> None:
    batch = [_traj(q, g, float(q == "a"), 1) for q in "ab" for g in range(4)]
    rows, stats = compute_advantages(batch, credit="shuffled", rng=random.Random(3))
    assert stats.zero_variance_groups < 2  # with the unshuffled rewards both groups would be flat
    plain, plain_stats = compute_advantages(batch)
    assert plain == [] and plain_stats.zero_variance_groups == 2


def test_truncated_rows_dropped_after_advantages() -> None:
    batch = [_traj("a", 0, 1.0, 2, truncated=(0,)), _traj("a", 1, 0.0, 2)]
    rows, stats = compute_advantages(batch)
    assert stats.truncated_rows == 1 and len(rows) == 3
    # the truncated row's trajectory still set the group statistics: the kept advantages are +-1
    assert sorted(round(r.advantage, 4) for r in rows) == [-1.0, -1.0, 1.0]
