"""Rollouts by `aiflows serve` workers: the rollout worker is a flow, reached over the Redis bus.

Start any number of workers, on any machines that see the trainer's weights folder:

    aiflows serve training.flow_grpo.remote:RolloutWorker --redis redis://host:6379/0 --concurrency 1

A request is one query's G trajectories: the run's config (the worker builds the same task and agent),
the example, its sampling seed, and the weights version with the folder the trainer published it in
(`folder/v{version}`, safetensors); a worker loads a version the first time a request names it. Seeds
per trajectory make a worker's rows equal the in-process rows.

Delivery is the bus's: a worker that dies mid-rollout stops heartbeating and its request is taken over
by another (counted here as retried: the request announced its start from two workers), a request the
bus gives up on (dead-lettered) or that outlives `timeout` is sent once more, then dropped and counted.
A late duplicate counts once. `python -m training.flow_grpo.remote` is the same `aiflows serve` command.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.eval import Example
from aiflows import AtomicFlow
from aiflows.context import Context

from .rows import Trajectory

__all__ = ["ADDRESS", "RemoteStats", "RolloutBatch", "RolloutWorker", "publish_weights", "remote_rollouts"]

ADDRESS = "flow-grpo-rollouts"


class RemoteStats(BaseModel):
    retried: int = 0  # requests run again: their worker died (taken over) or the bus gave up and they were resent
    dropped: int = 0  # requests that never came back: their trajectories are missing from the step, counted here


class RolloutRequest(BaseModel):
    config: dict[str, Any]
    weights: str  # the folder of this version's safetensors and tokenizer
    version: int
    example: dict[str, Any]
    seed: int
    group: int = Field(ge=1)
    temperature: float
    max_new_tokens: int
    tag: str


class RolloutReply(BaseModel):
    trajectories: list[dict[str, Any]]
    worker: str


def publish_weights(model: Any, tokenizer: Any, folder: Path, version: int) -> Path:
    """Save the policy as `folder/v{version}` (safetensors and tokenizer) for the workers; returns that folder.

    Versions before the previous one are removed: no request of the current step names them.
    """
    import shutil

    from .checkpoint import save_weights

    target = folder / f"v{version}"
    if hasattr(model, "merge_and_unload"):  # LoRA: workers load a plain model with the adapters merged in
        import copy

        model = copy.deepcopy(model).merge_and_unload()
    save_weights(model, target)
    tokenizer.save_pretrained(target)
    for old in folder.glob("v*"):
        if old.name[1:].isdigit() and int(old.name[1:]) < version - 1:
            shutil.rmtree(old, ignore_errors=True)
    return target


class RolloutWorker(AtomicFlow):
    """Runs the real agent G times for one query with the policy version the request names.

    Rollouts run in a thread one at a time (the policy's sampler is reseeded per trajectory), so the
    event loop keeps the worker's heartbeat going during a long rollout.
    """

    Input = RolloutRequest
    Output = RolloutReply

    def __init__(self, name: str = ADDRESS, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self._lock = threading.Lock()
        self._setups: dict[str, tuple[Any, Any]] = {}  # config digest -> (task, agent factory)
        self._policy: tuple[str, Any] | None = None  # (weights folder, InProcessPolicy)
        self.worker = f"{os.uname().nodename}-{os.getpid()}"

    async def handle(self, ctx: Context, data: Any) -> Any:
        ctx.emit("rollout.start", {"worker": self.worker, "tag": data.tag, "query": data.example.get("id")})
        trajectories = await asyncio.to_thread(self._rollout, data)
        return {"trajectories": [t.model_dump() for t in trajectories], "worker": self.worker}

    def _rollout(self, data: RolloutRequest) -> list[Trajectory]:
        from .config import FlowGRPOConfig
        from .policy import InProcessPolicy, load_policy
        from .rollouts import collect_rollouts
        from .setup import resolve_agent, resolve_task

        with self._lock:
            digest = hashlib.sha256(json.dumps(data.config, sort_keys=True).encode()).hexdigest()[:16]
            if digest not in self._setups:
                config = FlowGRPOConfig(**data.config)
                task = resolve_task(config)
                folder = Path(config.out) / "workers" / f"{self.worker}-{digest}"
                self._setups[digest] = (task, resolve_agent(config, task, folder))
            task, factory = self._setups[digest]
            if self._policy is None or self._policy[0] != data.weights:
                model, tok = load_policy(data.weights)
                self._policy = (data.weights, InProcessPolicy(model, tok, max_new_tokens=data.max_new_tokens))
            policy = self._policy[1]
            policy.max_new_tokens = data.max_new_tokens
            return collect_rollouts(
                factory,
                policy,
                task,
                [Example.model_validate(data.example)],
                group=data.group,
                temperature=data.temperature,
                max_new_tokens=data.max_new_tokens,
                tag=data.tag,
                seeds=[data.seed],
            )


@dataclass(frozen=True)
class RolloutBatch:
    """One step's rollouts to ask the workers for, with how to ask: the parameters of `remote_rollouts`
    said once, so the sync wrapper and its async body cannot drift apart.

    A dataclass rather than a model: it stays in this process and hands its values on exactly as given.
    """

    config: dict[str, Any]  # the run's config as a dict: a worker builds the same task and agent from it
    examples: list[Example]
    seeds: list[int]  # one sampling seed per example
    weights: Path  # the folder `publish_weights` wrote this version to
    version: int
    group: int
    temperature: float
    max_new_tokens: int
    tag: str
    address: str = ADDRESS
    timeout: float = 300.0  # seconds a request may take before it is sent again
    retries: int = 1  # sends after the first, then the request is dropped

    def request(self, example: Example, seed: int) -> dict[str, Any]:
        """The wire request for one example's G trajectories."""
        return RolloutRequest(
            config=self.config,
            weights=str(self.weights),
            version=self.version,
            example=example.model_dump(),
            seed=seed,
            group=self.group,
            temperature=self.temperature,
            max_new_tokens=self.max_new_tokens,
            tag=self.tag,
        ).model_dump()


def remote_rollouts(
    url: str,
    config: dict[str, Any],
    examples: list[Example],
    seeds: list[int],
    *,
    weights: Path,
    version: int,
    group: int,
    temperature: float,
    max_new_tokens: int,
    tag: str,
    address: str = ADDRESS,
    namespace: str = "aiflows",
    timeout: float = 300.0,
    retries: int = 1,
) -> tuple[list[Trajectory], RemoteStats]:
    """The trajectories of `examples` from the workers serving `address` on the Redis deployment at `url`
    (namespace `namespace`), in example order; `config` is the run's config as a dict.

    A request the bus dead-letters or that is not answered within `timeout` seconds is sent `retries` more
    times, then dropped: its trajectories are missing and `stats.dropped` says how many requests.
    """
    batch = RolloutBatch(
        config=config,
        examples=examples,
        seeds=seeds,
        weights=weights,
        version=version,
        group=group,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        tag=tag,
        address=address,
        timeout=timeout,
        retries=retries,
    )
    return asyncio.run(_remote(redis_runtime(url, namespace), batch))


async def _remote(runtime: Any, batch: RolloutBatch) -> tuple[list[Trajectory], RemoteStats]:
    from aiflows.bus.deadline import within

    stats = RemoteStats()

    async def one(example: Example, seed: int) -> list[Trajectory] | None:
        request = batch.request(example, seed)
        for attempt in range(batch.retries + 1):
            if attempt:
                stats.retried += 1
            starts: set[str] = set()

            def seen(event: Any, starts: set[str] = starts) -> None:
                if event.data.get("type") == "rollout.start":
                    starts.add(str(event.data.get("worker", "")))

            try:
                async with within(batch.timeout):
                    result = await runtime.run(
                        batch.address, request, session=f"{batch.tag}-{uuid.uuid4().hex}", on_event=seen
                    )
            except TimeoutError:
                continue
            finally:
                stats.retried += max(0, len(starts) - 1)  # taken over from a worker that died
            if result.error is None:
                return [Trajectory.model_validate(t) for t in (result.output or {}).get("trajectories", [])]
        stats.dropped += 1
        return None

    async with runtime:
        answers = await asyncio.gather(*(one(e, s) for e, s in zip(batch.examples, batch.seeds, strict=True)))
    return [t for answer in answers if answer is not None for t in answer], stats


def redis_runtime(url: str, namespace: str = "aiflows") -> Any:
    """A client runtime on the Redis deployment the workers serve."""
    from aiflows.bus.redis import RedisBus
    from aiflows.runtime import Runtime
    from aiflows.runtime.store.redis import RedisStore

    return Runtime(bus=RedisBus(url, namespace=namespace), store=RedisStore(url, namespace=namespace))


def main(argv: list[str] | None = None) -> int:
    """`aiflows serve training.flow_grpo.remote:RolloutWorker ARGS...` (the same options)."""
    import sys

    from aiflows.cli import main as cli

    args = list(sys.argv[1:] if argv is None else argv)
    sys.argv = ["aiflows", "serve", "training.flow_grpo.remote:RolloutWorker", *args]
    return int(cli() or 0)


if __name__ == "__main__":
    raise SystemExit(main())
