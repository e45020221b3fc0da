"""Rollouts by `aiflows serve` worker processes over a real Redis equal the in-process rows; a worker
killed mid-rollout loses no trajectory (taken over, counted); a request nobody answers is dropped, counted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from training.flow_grpo import FlowGRPOConfig, InProcessPolicy, collect_rollouts, train
from training.flow_grpo.remote import ADDRESS, publish_weights, remote_rollouts
from training.flow_grpo.setup import resolve_agent, resolve_policy, resolve_task

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "flow_grpo_kbqa.yaml"

pytestmark = pytest.mark.slow


class Served:
    """`aiflows serve training.flow_grpo.remote:RolloutWorker` in a child process, ready once it says so."""

    def __init__(self, url: str, namespace: str, *, alias: bool = False) -> None:
        serve = ["-m", "aiflows.cli", "serve", "training.flow_grpo.remote:RolloutWorker"]
        target = ["-m", "training.flow_grpo.remote"] if alias else serve
        args = [sys.executable, *target, "--redis", url, "--namespace", namespace, "--concurrency", "1"]
        args += ["--heartbeat", "0.3", "--visibility-timeout", "3", "--grace", "1"]
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        assert self.process.stderr is not None
        deadline, lines = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("serving "):
                assert ADDRESS in line
                threading.Thread(target=self.process.stderr.read, daemon=True).start()  # keep the pipe drained
                return
        self.stop()
        raise RuntimeError("the worker did not start:\n" + "".join(lines))

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _same(remote: list[Any], local: list[Any]) -> None:
    """The same trajectories: ids, tokens and rewards exactly, log-probabilities to float rounding (the
    policy decodes a worker's batch and the in-process batch at different paddings)."""
    assert len(remote) == len(local)
    for a, b in zip(remote, local, strict=True):
        left, right = a.model_dump(), b.model_dump()
        for row_a, row_b in zip(left.pop("rows"), right.pop("rows"), strict=True):
            assert row_a.pop("old_logprobs") == pytest.approx(row_b.pop("old_logprobs"), abs=1e-5)
            assert row_a == row_b
        assert left == right


def _setup(tmp: Path) -> tuple[FlowGRPOConfig, Any, Any, Any]:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update({"out": str(tmp / "run"), "progress": False, "plot": False})
    config = FlowGRPOConfig(**data)
    task = resolve_task(config)
    model, tok = resolve_policy(config, tmp / "run")
    return config, task, model, tok


def _local(config: FlowGRPOConfig, task: Any, model: Any, tok: Any, tmp: Path, examples: Any, seeds: Any) -> Any:
    return collect_rollouts(
        resolve_agent(config, task, tmp / "local"),
        InProcessPolicy(model, tok, max_new_tokens=1),
        task,
        examples,
        group=4,
        temperature=1.0,
        max_new_tokens=1,
        tag="t",
        seeds=seeds,
    )


def _remote(url: str, ns: str, config: FlowGRPOConfig, weights: Path, examples: Any, seeds: Any, **kw: Any) -> Any:
    return remote_rollouts(
        url,
        config.model_dump(mode="json"),
        examples,
        seeds,
        weights=weights,
        version=1,
        group=4,
        temperature=1.0,
        max_new_tokens=1,
        tag="t",
        namespace=ns,
        **kw,
    )


def test_served_workers_give_the_in_process_rows(tmp_path: Path, redis_url: str) -> None:
    config, task, model, tok = _setup(tmp_path)
    examples, seeds = task.examples[:4], [11, 12, 13, 14]
    local = _local(config, task, model, tok, tmp_path, examples, seeds)
    weights = publish_weights(model, tok, tmp_path / "weights", 1)
    ns = f"fg-{tmp_path.name}"
    workers = [Served(redis_url, ns), Served(redis_url, ns, alias=True)]  # the module alias is the same command
    try:
        remote, stats = _remote(redis_url, ns, config, weights, examples, seeds, timeout=120)
    finally:
        for w in workers:
            w.stop()
    assert stats.dropped == 0 and stats.retried == 0
    _same(remote, local)
    assert sum(len(t.rows) for t in local) == 16


def test_a_worker_killed_mid_rollout_loses_no_trajectory(tmp_path: Path, redis_url: str) -> None:
    config, task, model, tok = _setup(tmp_path)
    examples, seeds = task.examples[:3], [21, 22, 23]
    local = _local(config, task, model, tok, tmp_path, examples, seeds)
    weights = publish_weights(model, tok, tmp_path / "weights", 1)
    ns = f"fgk-{tmp_path.name}"
    first = Served(redis_url, ns)
    done: dict[str, Any] = {}
    caller = threading.Thread(
        target=lambda: done.update(out=_remote(redis_url, ns, config, weights, examples, seeds, timeout=120))
    )
    caller.start()
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the first worker holds a request: it is rolling out (or loading weights)
        try:
            if client.xpending(f"{ns}:in:{ADDRESS}", "workers")["pending"] > 0:
                break
        except redis.ResponseError:
            pass
        time.sleep(0.05)
    time.sleep(0.3)
    first.kill()
    second = Served(redis_url, ns)
    try:
        caller.join(timeout=180)
    finally:
        second.stop()
    assert not caller.is_alive()
    remote, stats = done["out"]
    # every query's trajectories came back (taken over by the second worker) or were dropped and counted
    assert len(remote) == 4 * (len(examples) - stats.dropped)
    assert stats.dropped == 0 and stats.retried >= 1
    _same(remote, local)


def test_a_request_no_worker_answers_is_retried_then_dropped_and_counted(tmp_path: Path, redis_url: str) -> None:
    config = FlowGRPOConfig(task_limit=1, out=str(tmp_path))
    example = resolve_task(config).examples[0]
    out, stats = _remote(redis_url, "nobody", config, tmp_path, [example], [0], timeout=1)
    assert out == [] and stats.retried == 1 and stats.dropped == 1


def test_training_through_served_workers_matches_in_process_training(tmp_path: Path, redis_url: str) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    data.update({"progress": False, "plot": False, "steps": 2, "group": 4, "queries": 2})
    local = train(FlowGRPOConfig(**{**data, "out": str(tmp_path / "local")}))
    ns = f"fgt-{tmp_path.name}"
    worker = Served(redis_url, ns)
    try:
        remote = train(
            FlowGRPOConfig(**{**data, "out": str(tmp_path / "remote"), "redis_url": redis_url, "redis_namespace": ns})
        )
    finally:
        worker.stop()
    for a, b in zip(local.history, remote.history, strict=True):
        assert b["jobs_dropped"] == 0
        assert (a["reward_mean"], a["rows"]) == (b["reward_mean"], b["rows"])
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-6)
