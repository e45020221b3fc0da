"""Rollouts on other machines: `aiflows serve` workers over Redis, the policy's weights published by version.

The trainer publishes each step's weights as `<folder>/v<version>/model.safetensors` (written, then
renamed into place) and the version number under a Redis key; every request names the newest version
and a worker loads it before rolling out. A worker runs

    aiflows serve training.flow_grpo.remote:worker --redis redis://host:6379 --namespace grpo

and the trainer asks it for trajectories with `collect_remote`. Each trajectory has its own sampling
seed (`rollout_seed`), so where it runs does not change its rows: `rollout_local` gives the same rows in
this process. A worker that dies mid-rollout: the request is retried (`retries` times, after
`timeout_s`), then the trajectory is kept as failed and counted (`RemoteStats.dropped`), never lost.
"""

from __future__ import annotations

import asyncio
import os
import zlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from agents.eval import Example
from aiflows.context import Context
from aiflows.flow import AtomicFlow, Data

from .config import FlowGRPOConfig
from .rows import Trajectory

__all__ = [
    "ADDRESS",
    "RemoteStats",
    "RolloutRequest",
    "RolloutWorker",
    "collect_remote",
    "publish_weights",
    "rollout_local",
    "rollout_seed",
    "worker",
]

ADDRESS = "flow-grpo-rollout"


def rollout_seed(seed: int, rollout_id: str) -> int:
    """The sampling seed of one trajectory: a function of the run's seed and the trajectory's id."""
    return (seed * 1_000_003 + zlib.crc32(rollout_id.encode())) % (1 << 62)


class RolloutRequest(BaseModel):
    """One trajectory to run: the config (agent, task, policy, sampling), the weights and the query."""

    config: dict[str, Any]
    weights: str = ""  # the folder `publish_weights` writes to ("" = the config's initial policy)
    version: int = 0
    example: dict[str, Any]
    rollout_id: str


class RemoteStats(BaseModel):
    retried: int = 0
    dropped: int = 0
    errors: list[str] = Field(default_factory=list)  # why each retried or dropped attempt failed


def publish_weights(model: Any, folder: str | Path, version: int, *, redis_url: str = "", namespace: str = "") -> Path:
    """Write `model`'s weights as version `version` (atomically) and announce it in Redis."""
    from safetensors.torch import save_file

    target = Path(folder) / f"v{version}"
    target.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()
    }  # tied weights: own copies
    tmp = target / "model.safetensors.tmp"
    save_file(state, str(tmp))
    os.replace(tmp, target / "model.safetensors")
    if redis_url:
        import redis

        client = redis.Redis.from_url(redis_url)
        try:
            client.set(f"{namespace}:flow-grpo:version", version)
        finally:
            client.close()
    return target


class _Loaded:
    """What a worker keeps between requests: the resolved agent, task and policy, and its weights' version."""

    def __init__(self, config: FlowGRPOConfig, folder: Path) -> None:
        from .policy import InProcessPolicy
        from .setup import resolve_agent, resolve_policy, resolve_task

        self.task = resolve_task(config)
        self.factory = resolve_agent(config, self.task, folder)
        model, tokenizer = resolve_policy(config, folder)
        self.model = model.eval()
        self.backend = InProcessPolicy(model, tokenizer, max_new_tokens=config.max_new_tokens)
        self.initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.loaded = ("", 0)

    def load(self, weights: str, version: int) -> None:
        """Hold version `version` of `weights` (no folder: the initial weights)."""
        if (weights, version) == self.loaded:
            return
        if weights:
            from safetensors.torch import load_file

            state = load_file(str(Path(weights) / f"v{version}" / "model.safetensors"))
        else:
            state = self.initial
        self.model.load_state_dict(state, strict=False)
        self.loaded = (weights, version)


_cache: dict[str, _Loaded] = {}


def _loaded(config: FlowGRPOConfig, folder: Path) -> _Loaded:
    key = config.model_dump_json()
    if key not in _cache:
        _cache.clear()
        _cache[key] = _Loaded(config, folder)
    return _cache[key]


def rollout_local(request: RolloutRequest, *, folder: str | Path | None = None) -> Trajectory:
    """One trajectory in this process, exactly as a worker runs it (blocking)."""
    from .rollouts import collect_rollouts

    config = FlowGRPOConfig(**request.config)
    where = Path(folder) if folder is not None else config.run_dir
    loaded = _loaded(config, where)
    loaded.load(request.weights, request.version)
    loaded.backend.reseed(rollout_seed(config.seed, request.rollout_id))
    example = Example(**request.example)
    [done] = collect_rollouts(
        loaded.factory,
        loaded.backend,
        loaded.task,
        [example],
        group=1,
        temperature=config.temperature,
        max_new_tokens=config.max_new_tokens,
        tag="remote",
    )
    rid = request.rollout_id
    return done.model_copy(
        update={"rollout_id": rid, "rows": [r.model_copy(update={"rollout_id": rid}) for r in done.rows]}
    )


class RolloutWorker(AtomicFlow):
    """The flow a worker serves: a `RolloutRequest` in, a `Trajectory` (as a dict) out."""

    Input = RolloutRequest
    Output = Data

    def __init__(self, *, name: str = ADDRESS, folder: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.folder = folder or os.environ.get("AIFLOWS_GRPO_WORKER_DIR") or str(Path.cwd() / "flow-grpo-worker")
        self._lock = asyncio.Lock()

    async def handle(self, ctx: Context, data: RolloutRequest) -> dict[str, Any]:
        async with self._lock:  # one model per worker: requests take turns
            done = await asyncio.to_thread(rollout_local, data, folder=self.folder)
        return {"trajectory": done.model_dump(mode="json")}


worker = RolloutWorker()


async def collect_remote(
    runtime: Any,
    config: FlowGRPOConfig,
    examples: list[Example],
    *,
    tag: str,
    weights: str = "",
    version: int = 0,
    timeout_s: float = 120.0,
    retries: int = 2,
    address: str = ADDRESS,
) -> tuple[list[Trajectory], RemoteStats]:
    """`config.group` trajectories per example from the workers behind `address`, in query order."""
    stats = RemoteStats()
    cfg = config.model_dump(mode="json")

    async def one(example: Example, g: int) -> Trajectory:
        rid = f"{tag}-{example.id}-{g}"
        request = RolloutRequest(
            config=cfg, weights=weights, version=version, example=example.model_dump(mode="json"), rollout_id=rid
        )
        why = ""
        for attempt in range(retries + 1):
            if attempt:
                stats.retried += 1
            try:
                result = await asyncio.wait_for(runtime.run(address, request.model_dump(mode="json")), timeout_s)
                return Trajectory(**result.unwrap()["trajectory"])
            except Exception as exc:  # noqa: BLE001 - a lost worker or a failed run: retried, then counted
                why = f"{rid}: {type(exc).__name__}: {exc}"
                stats.errors.append(why)
        stats.dropped += 1
        return Trajectory(query_id=example.id, rollout_id=rid, reward=0.0, failed=f"remote: {why}")

    done = await asyncio.gather(*(one(e, g) for e in examples for g in range(config.group)))
    return list(done), stats
