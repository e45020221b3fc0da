"""Rollouts by an `aiflows serve` worker in another process, over a real redis-server, equal the in-process ones."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

from agents.eval import Example
from training.flow_grpo.config import FlowGRPOConfig
from training.flow_grpo.remote import RolloutRequest, collect_remote, publish_weights, rollout_local

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bus" / "support"))
from redis_support import WorkerProcess  # noqa: E402


def _config(tmp_path: Path) -> FlowGRPOConfig:
    return FlowGRPOConfig(
        agent="kbqa-scripted", task="kbqa", task_limit=4, policy="tiny", group=2, max_turns=2, max_new_tokens=3,
        temperature=1.0, out=str(tmp_path / "run"), progress=False, plot=False,
    )  # fmt: skip


def _runtime(url: str, ns: str):  # type: ignore[no-untyped-def]
    from aiflows import Runtime
    from aiflows.bus.redis import RedisBus
    from aiflows.runtime.store.redis import RedisStore

    return Runtime(bus=RedisBus(url, namespace=ns), store=RedisStore(url, namespace=ns))


async def test_worker_rows_equal_in_process_rows_at_the_published_version(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from training.flow_grpo.setup import resolve_policy, resolve_task

    config = _config(tmp_path)
    examples: list[Example] = resolve_task(config).examples[:2]
    model, _ = resolve_policy(config, config.run_dir)
    with torch.no_grad():  # a published version that differs from the initial weights the worker builds
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    weights = tmp_path / "weights"
    ns = f"g{uuid.uuid4().hex[:10]}"
    publish_weights(model, weights, 1, redis_url=redis_url, namespace=ns)
    import redis

    assert redis.Redis.from_url(redis_url).get(f"{ns}:flow-grpo:version") == b"1"

    monkeypatch.setenv("AIFLOWS_GRPO_WORKER_DIR", str(tmp_path / "worker"))
    with WorkerProcess(  # a first rollout loads torch and transformers: a generous liveness window
        "training.flow_grpo.remote:worker", redis_url, ns, "--visibility-timeout", "20", "--heartbeat", "1"
    ) as proc:
        assert proc.served == ["flow-grpo-rollout"]
        async with _runtime(redis_url, ns) as rt:
            remote, stats = await collect_remote(rt, config, examples, tag="s0", weights=str(weights), version=1)
    assert stats.dropped == 0 and stats.retried == 0, stats.errors
    local = [
        await asyncio.to_thread(
            rollout_local,
            RolloutRequest(
                config=config.model_dump(mode="json"), weights=str(weights), version=1,
                example=e.model_dump(mode="json"), rollout_id=f"s0-{e.id}-{g}",
            ),
            folder=tmp_path / "local",
        )
        for e in examples
        for g in range(config.group)
    ]  # fmt: skip
    assert [t.rollout_id for t in remote] == [t.rollout_id for t in local]
    assert all(not t.failed for t in remote)
    assert sum(len(t.rows) for t in remote) > 0
    assert [t.model_dump() for t in remote] == [t.model_dump() for t in local]
    # the version matters: the initial weights sample other tokens somewhere in the batch
    initial = [
        await asyncio.to_thread(
            rollout_local,
            RolloutRequest(
                config=config.model_dump(mode="json"), example=e.model_dump(mode="json"), rollout_id=f"s0-{e.id}-{g}"
            ),
            folder=tmp_path / "fresh",
        )
        for e in examples
        for g in range(config.group)
    ]  # fmt: skip
    assert [t.model_dump() for t in initial] != [t.model_dump() for t in local]


async def test_no_worker_the_trajectories_are_dropped_and_counted(redis_url: str, tmp_path: Path) -> None:
    config = _config(tmp_path)
    example = Example(id="q1", query="What is 1 plus 1?", answer="2")
    ns = f"g{uuid.uuid4().hex[:10]}"
    async with _runtime(redis_url, ns) as rt:
        done, stats = await collect_remote(rt, config, [example], tag="s0", timeout_s=0.5, retries=1)
    assert stats.dropped == 2 and stats.retried == 2
    assert [t.failed.startswith("remote: ") for t in done] == [True, True]
    assert [t.rollout_id for t in done] == ["s0-q1-0", "s0-q1-1"]


async def test_a_worker_killed_mid_rollout_loses_no_trajectory(
    redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path)
    example = Example(id="q1", query="What is 1 plus 1?", answer="2")
    ns = f"g{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("AIFLOWS_GRPO_WORKER_DIR", str(tmp_path / "worker"))
    args = ("training.flow_grpo.remote:worker", redis_url, ns, "--visibility-timeout", "3", "--heartbeat", "0.5")
    first = WorkerProcess(*args)
    async with _runtime(redis_url, ns) as rt:
        job = asyncio.ensure_future(collect_remote(rt, config, [example], tag="s0", timeout_s=60, retries=2))
        await asyncio.sleep(2.0)  # the first worker has the requests: it is loading torch and the policy
        first.kill()
        with WorkerProcess(*args):
            done, stats = await job
    assert stats.dropped == 0, stats.errors
    assert [t.rollout_id for t in done] == ["s0-q1-0", "s0-q1-1"]
    assert all(not t.failed for t in done)
