"""Rollouts by Redis workers: the policy's weights published by version, jobs and results on Redis lists.

The trainer saves the weights as safetensors in a shared folder (`folder/v{version}`) and sets
`{key}:version`; each job names the version it needs and a worker loads it before rolling out.
A job is one query's G trajectories with its seed, so a worker's rows equal the in-process rows.
A worker moves the job it takes to its own `working` list; a job whose result does not come back in
time (the worker died) is pushed again once, then dropped and counted: never silently lost, and a
late duplicate result is ignored (each job id counts once).

    python -m training.flow_grpo.remote --redis redis://host:6379/0 --key run1 --config config.yaml
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path
from typing import Any

from agents.eval import Example

from .rows import Trajectory

__all__ = ["RemoteStats", "publish_weights", "remote_rollouts", "serve"]


class RemoteStats:
    def __init__(self) -> None:
        self.retried = 0
        self.dropped = 0


def publish_weights(client: Any, key: str, model: Any, tokenizer: Any, folder: Path, version: int) -> None:
    """Save the policy as `folder/v{version}` (safetensors and tokenizer), then announce the version."""
    from .checkpoint import save_weights

    save_weights(model, folder / f"v{version}")
    tokenizer.save_pretrained(folder / f"v{version}")
    client.set(f"{key}:folder", str(folder))
    client.set(f"{key}:version", version)


def remote_rollouts(
    client: Any,
    key: str,
    examples: list[Example],
    seeds: list[int],
    *,
    version: int,
    group: int,
    temperature: float,
    max_new_tokens: int,
    tag: str,
    timeout: float = 60.0,
    retries: int = 1,
) -> tuple[list[Trajectory], RemoteStats]:
    """The trajectories of `examples` from workers, in example order; lost jobs retried, then dropped."""
    stats = RemoteStats()
    jobs: dict[str, dict[str, Any]] = {}
    for i, (example, seed) in enumerate(zip(examples, seeds, strict=True)):
        job_id = f"{tag}-{i}-{uuid.uuid4().hex[:8]}"
        jobs[job_id] = {
            "id": job_id,
            "example": example.model_dump(),
            "seed": seed,
            "group": group,
            "temperature": temperature,
            "max_new_tokens": max_new_tokens,
            "tag": tag,
            "version": version,
        }
    order = list(jobs)
    done: dict[str, list[Trajectory]] = {}
    for attempt in range(retries + 1):
        waiting = [j for j in order if j not in done]
        if not waiting:
            break
        if attempt:
            stats.retried += len(waiting)
        for j in waiting:
            client.rpush(f"{key}:jobs", json.dumps(jobs[j]))
        deadline = time.monotonic() + timeout
        while any(j not in done for j in waiting) and time.monotonic() < deadline:
            got = client.blpop([f"{key}:results"], timeout=1)
            if got is None:
                continue
            answer = json.loads(got[1])
            if answer["id"] in jobs and answer["id"] not in done:  # a late duplicate counts once
                done[answer["id"]] = [Trajectory.model_validate(t) for t in answer["trajectories"]]
    stats.dropped = sum(1 for j in order if j not in done)
    empty: list[Trajectory] = []
    return [t for j in order for t in done.get(j, empty)], stats


def serve(client: Any, key: str, config_path: str, *, worker: str = "", max_jobs: int | None = None) -> int:
    """A worker: take jobs, load the weights version each names, roll out, send the trajectories back."""
    from .config import load_config
    from .policy import InProcessPolicy, load_policy
    from .rollouts import collect_rollouts
    from .setup import resolve_agent, resolve_task

    config = load_config(config_path)
    task = resolve_task(config)
    worker = worker or uuid.uuid4().hex[:8]
    factory = resolve_agent(config, task, Path(config.out) / f"worker-{worker}")
    loaded, policy, served = -1, None, 0
    while max_jobs is None or served < max_jobs:
        raw = client.blmove(f"{key}:jobs", f"{key}:working:{worker}", 5, "LEFT", "RIGHT")
        if raw is None:
            continue
        job = json.loads(raw)
        if job["version"] != loaded:
            folder = Path(client.get(f"{key}:folder").decode()) / f"v{job['version']}"
            model, tok = load_policy(folder)
            policy, loaded = InProcessPolicy(model, tok, max_new_tokens=job["max_new_tokens"]), job["version"]
        example = Example.model_validate(job["example"])
        trajectories = collect_rollouts(
            factory,
            policy,
            task,
            [example],
            group=job["group"],
            temperature=job["temperature"],
            max_new_tokens=job["max_new_tokens"],
            tag=job["tag"],
            seeds=[job["seed"]],
        )
        answer = {"id": job["id"], "trajectories": [t.model_dump() for t in trajectories]}
        client.rpush(f"{key}:results", json.dumps(answer))
        client.lrem(f"{key}:working:{worker}", 1, raw)
        served += 1
    return served


def main() -> int:
    import redis

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--max-jobs", type=int, default=None)
    args = parser.parse_args()
    serve(redis.Redis.from_url(args.redis), args.key, args.config, max_jobs=args.max_jobs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
