"""Rollouts through a Redis worker in another process equal the in-process rows; a lost job is counted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import redis
import yaml

from training.flow_grpo import FlowGRPOConfig, InProcessPolicy, collect_rollouts, train
from training.flow_grpo.remote import publish_weights, remote_rollouts
from training.flow_grpo.setup import resolve_agent, resolve_policy, resolve_task

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "flow_grpo_kbqa.yaml"

pytestmark = pytest.mark.slow


def test_worker_rows_equal_in_process_rows(tmp_path: Path, redis_url: str) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update({"out": str(tmp_path / "run"), "progress": False, "plot": False})
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(data))
    config = FlowGRPOConfig(**data)
    task = resolve_task(config)
    model, tok = resolve_policy(config, tmp_path / "run")
    examples, seeds = task.examples[:2], [11, 12]
    local = collect_rollouts(
        resolve_agent(config, task, tmp_path / "local"),
        InProcessPolicy(model, tok, max_new_tokens=1),
        task,
        examples,
        group=4,
        temperature=1.0,
        max_new_tokens=1,
        tag="t",
        seeds=seeds,
    )
    client = redis.Redis.from_url(redis_url)
    key = f"fg-{tmp_path.name}"
    publish_weights(client, key, model, tok, tmp_path / "weights", 1)
    worker = subprocess.Popen(
        [sys.executable, "-m", "training.flow_grpo.remote", "--redis", redis_url, "--key", key]
        + ["--config", str(config_file), "--max-jobs", "2"],
        cwd=ROOT,
    )
    try:
        remote, stats = remote_rollouts(
            client, key, examples, seeds, version=1, group=4, temperature=1.0, max_new_tokens=1, tag="t", timeout=120
        )
    finally:
        worker.wait(timeout=60)
    assert stats.dropped == 0 and stats.retried == 0
    assert [t.model_dump() for t in remote] == [t.model_dump() for t in local]
    assert sum(len(t.rows) for t in local) == 8


def test_a_job_no_worker_answers_is_retried_then_dropped_and_counted(tmp_path: Path, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    example = resolve_task(FlowGRPOConfig(task_limit=1)).examples[0]
    out, stats = remote_rollouts(
        client, "nobody", [example], [0], version=1, group=2, temperature=1.0, max_new_tokens=1, tag="t", timeout=1
    )
    assert out == [] and stats.retried == 1 and stats.dropped == 1
    assert client.llen("nobody:jobs") == 2  # both tries are still there for a worker to see, none lost silently


def test_training_through_a_worker_matches_in_process_training(tmp_path: Path, redis_url: str) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update({"progress": False, "plot": False, "steps": 2, "group": 4, "queries": 2})
    local = train(FlowGRPOConfig(**{**data, "out": str(tmp_path / "local")}))
    key = f"fgt-{tmp_path.name}"
    remote_config = {**data, "out": str(tmp_path / "remote"), "redis_url": redis_url, "redis_key": key}
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump({**remote_config, "out": str(tmp_path / "worker")}))
    worker = subprocess.Popen(
        [sys.executable, "-m", "training.flow_grpo.remote", "--redis", redis_url, "--key", key]
        + ["--config", str(config_file), "--max-jobs", "4"],
        cwd=ROOT,
    )
    try:
        remote = train(FlowGRPOConfig(**remote_config))
    finally:
        worker.wait(timeout=120)
    for a, b in zip(local.history, remote.history, strict=True):
        assert b["jobs_dropped"] == 0
        assert (a["reward_mean"], a["rows"]) == (b["reward_mean"], b["rows"])
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)
