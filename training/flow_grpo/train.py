"""The Flow-GRPO loop, top to bottom: roll the agent out, score, group advantages, clipped update, log.

    result = train(FlowGRPOConfig(steps=20, group=8, queries=4, out="runs/x"))

One step: pick `queries` examples (a function of seed and step, so a resumed run sees the same data),
run the real agent `group` times on each with the policy as the planner (sampling reseeded from seed
and step), score each trajectory with the task's exact scorer, normalise rewards within each query's
group, give the advantage to the planner turns (`credit`), and take one AdamW step on the token-level
clipped objective plus `kl_coef` x k3 KL to the frozen initial policy. A NaN loss stops the run and
leaves the last good checkpoint as it was.
"""

from __future__ import annotations

import copy
import json
import math
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from agents.eval import Example, Task

from .advantages import compute_advantages
from .checkpoint import latest, load_checkpoint, load_weights, save_checkpoint, save_weights
from .config import FlowGRPOConfig
from .loss import aggregate, clipped_loss, kl_k3, token_logprobs
from .policy import InProcessPolicy
from .rollouts import AgentFactory, collect_rollouts
from .rows import Row, Trajectory
from .setup import resolve_agent, resolve_policy, resolve_task

__all__ = ["TrainError", "TrainResult", "train", "update"]


class TrainError(RuntimeError):
    """A run that cannot go on (NaN loss, every trajectory failed); the last good checkpoint is kept."""


class TrainResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    run_dir: Path
    step: int
    history: list[dict[str, Any]]
    checkpoint: Path | None
    model: Any = None
    tokenizer: Any = None


def batch_for(examples: list[Example], seed: int, step: int, queries: int) -> list[Example]:
    """The step's queries: a seeded sample, the same in a resumed run."""
    rng = random.Random(seed * 1_000_003 + step)
    return rng.sample(examples, min(queries, len(examples)))


def resolve_device(setting: str) -> Any:
    """The torch device of `setting`; `auto` is this rank's GPU (LOCAL_RANK under torchrun) when CUDA is present."""
    import os

    import torch

    if setting == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
    device = torch.device(setting)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise TrainError(f"device {setting!r}: CUDA is not available on this machine (use device: auto or cpu)")
    return device


def _distributed(device: Any) -> tuple[int, int]:
    """(rank, world size) under torchrun (NCCL between GPUs, gloo on CPU), (0, 1) otherwise."""
    import os

    import torch
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return (dist.get_rank(), dist.get_world_size()) if world > 1 else (0, 1)


def _comm_device() -> Any:
    """Where collectives' tensors live: the GPU under NCCL, the CPU under gloo."""
    import torch
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def _all_sum(values: list[float], world: int) -> list[float]:
    if world == 1:
        return values
    import torch
    import torch.distributed as dist

    t = torch.tensor(values, dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t)
    return [float(v) for v in t.cpu()]


def _all_max(value: float, world: int) -> float:
    if world == 1:
        return value
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t[0])


def _all_interleave(items: list[str], world: int) -> list[str]:
    """Every rank's items in the order of the batch they were dealt from (rank r has items r, r + world, ...)."""
    if world == 1:
        return items
    import torch.distributed as dist

    parts: list[Any] = [None] * world
    dist.all_gather_object(parts, items)
    longest = max(len(p) for p in parts)
    return [p[i] for i in range(longest) for p in parts if i < len(p)]


def update(
    model: Any,
    reference: Any,
    optimizer: Any,
    rows: list[Row],
    trajectories: list[Trajectory],
    config: FlowGRPOConfig,
    world: int = 1,
) -> dict[str, float]:
    """One optimizer step over `rows`, in minibatches whose gradients add up to the whole batch's.

    Under torch.distributed each rank brings its own rows; the loss is normalised by the totals of
    all ranks and the gradients are summed across ranks, so the step equals one process's on all rows.
    """
    import torch

    pad = int(getattr(model.config, "pad_token_id", None) or 0)
    turns = {t.rollout_id: max(1, len(t.rows)) for t in trajectories}
    weight = [1.0 / turns.get(r.rollout_id, 1) for r in rows]
    total_tokens, total_weight = _all_sum([float(sum(len(r.response_ids) for r in rows)), sum(weight)], world)
    if total_tokens == 0:
        return {"loss": 0.0, "clip_fraction": 0.0, "kl": 0.0, "entropy": 0.0}
    model.train()
    optimizer.zero_grad()
    sums = {"loss": 0.0, "clip_fraction": 0.0, "kl": 0.0, "entropy": 0.0}
    # minibatches of rows of similar length: little padding (the gradient is the same sum)
    order = sorted(range(len(rows)), key=lambda i: len(rows[i].prompt_ids) + len(rows[i].response_ids))
    for start in range(0, len(rows), config.minibatch):
        part = order[start : start + config.minibatch]
        chunk = [rows[i] for i in part]
        w = torch.tensor([weight[i] for i in part])
        logp, mask, entropy = token_logprobs(model, chunk, pad=pad, temperature=config.temperature, with_entropy=True)
        with torch.no_grad():
            if reference is None:  # LoRA: the reference is the model with its adapters off
                with model.disable_adapter():
                    ref, _, _ = token_logprobs(model, chunk, pad=pad, temperature=config.temperature)
            else:
                ref, _, _ = token_logprobs(reference, chunk, pad=pad, temperature=config.temperature)
        old = torch.zeros(logp.shape)
        for i, r in enumerate(chunk):
            old[i, : len(r.old_logprobs)] = torch.tensor(r.old_logprobs)
        old, w = old.to(logp.device), w.to(logp.device)
        adv = torch.tensor([r.advantage for r in chunk], device=logp.device)
        agg = config.loss_agg
        policy_loss, clip = clipped_loss(
            logp, old, adv, mask, clip_low=config.clip_low, clip_high=config.clip_high, loss_agg=agg, weights=w
        )
        kl = aggregate(kl_k3(logp, ref), mask, agg, w)
        assert entropy is not None
        ent = aggregate(entropy, mask, agg, w)
        loss = policy_loss + config.kl_coef * kl - config.entropy_coef * ent
        share = float(mask.sum()) / total_tokens if agg == "token_mean" else float(w.sum()) / total_weight
        (loss * share).backward()  # type: ignore[no-untyped-call]
        for key, value in (("loss", loss), ("clip_fraction", clip), ("kl", kl), ("entropy", ent)):
            sums[key] += float(value.detach()) * share
    trainable = [p for p in model.parameters() if p.requires_grad]
    if world > 1:
        import torch.distributed as dist

        for p in trainable:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            dist.all_reduce(p.grad)
        sums = dict(zip(sums, _all_sum(list(sums.values()), world), strict=True))
    if not math.isfinite(sums["loss"]):
        optimizer.zero_grad()
        model.eval()
        return sums
    torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
    optimizer.step()
    model.eval()
    return sums


def train(
    config: FlowGRPOConfig,
    *,
    agent_factory: AgentFactory | None = None,
    task: Task | None = None,
    policy: tuple[Any, Any] | None = None,
    reward: Callable[[str, Example], float] | None = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> TrainResult:
    """Run (or resume) Flow-GRPO as `config` says; `agent_factory`, `task`, `policy` (model, tokenizer)
    and `reward` replace what the config names; `on_step` gets each step's log line."""
    import torch

    run = config.run_dir
    device = resolve_device(config.device)
    rank, world = _distributed(device)
    run.mkdir(parents=True, exist_ok=True)
    random.seed(config.seed)
    torch.manual_seed(config.seed)
    task = task if task is not None else resolve_task(config)
    if reward is not None:
        task = task.model_copy(update={"scorer": reward})
    if not task.examples:
        raise TrainError(f"task {task.name!r} has no examples to train on")
    agent_factory = agent_factory if agent_factory is not None else resolve_agent(config, task, run)
    if policy is None:  # rank 0 builds a `tiny` policy in the run folder before the others read it
        if rank > 0:
            _barrier()
        policy = resolve_policy(config, run)
        if rank == 0 and world > 1:
            _barrier()
    model, tokenizer = policy
    model = model.to(device=device, dtype=getattr(torch, config.dtype))

    # the frozen reference: the initial weights (saved once, so a resumed run keeps the same one)
    if (run / "reference").is_dir() and latest(run) is not None:  # a resumed run: back to the start
        load_weights(model, run / "reference")
    elif rank == 0:
        save_weights(model, run / "reference")
    reference: Any = None
    if config.lora_r > 0:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(
            model, LoraConfig(r=config.lora_r, lora_alpha=2 * config.lora_r, target_modules="all-linear")
        )
    else:
        reference = copy.deepcopy(model).eval().requires_grad_(False)
    model.eval()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.lr, weight_decay=config.weight_decay)

    step, history = 0, list[dict[str, Any]]()
    checkpoint = latest(run)
    if checkpoint is not None:
        step, history = load_checkpoint(checkpoint, model, optimizer)
    backend = InProcessPolicy(model, tokenizer, max_new_tokens=config.max_new_tokens)
    log_file = (run / "log.jsonl").open("a", encoding="utf-8")
    progress = _Progress(config.steps, step, enabled=config.progress and rank == 0)
    try:
        while step < config.steps:
            started = time.perf_counter()
            examples = batch_for(task.examples, config.seed, step, config.queries)
            seeds = [(config.seed * 1_000_003 + step) * 1_000 + i for i in range(len(examples))]
            examples, seeds = examples[rank::world], seeds[rank::world]  # this rank's share of the queries
            remote_stats = None
            if config.redis_url is not None:  # workers roll out with the weights published for this step
                trajectories, remote_stats = _remote(config, model, tokenizer, examples, seeds, step, rank)
            else:
                trajectories = collect_rollouts(
                    agent_factory,
                    backend,
                    task,
                    examples,
                    group=config.group,
                    temperature=config.temperature,
                    max_new_tokens=config.max_new_tokens,
                    tag=f"s{step}",
                    seeds=seeds,
                )
            rows, stats = compute_advantages(
                trajectories, credit=config.credit, rng=random.Random(config.seed * 7_919 + step)
            )
            # the step's counts over all ranks (each rank rolled out its share of the queries)
            names = "reward success trajectories zero_variance groups turns invalid failed truncated rows tokens"
            names += " retried dropped"
            mine = [
                sum(t.reward for t in trajectories),
                sum(1 for t in trajectories if t.reward >= 1.0),
                len(trajectories),
                stats.zero_variance_groups,
                stats.groups,
                sum(t.turns for t in trajectories),
                sum(t.invalid_actions for t in trajectories),
                sum(1 for t in trajectories if t.failed),
                stats.truncated_rows,
                len(rows),
                sum(len(r.response_ids) for r in rows),
                remote_stats.retried if remote_stats else 0,
                remote_stats.dropped if remote_stats else 0,
            ]
            n = dict(zip(names.split(), _all_sum([float(v) for v in mine], world), strict=True))
            if n["trajectories"] == 0:
                raise TrainError(f"step {step + 1}: no trajectory came back (every rollout job was dropped)")
            if n["failed"] == n["trajectories"]:
                first = next((t.failed for t in trajectories if t.failed), "on another rank")
                raise TrainError(f"step {step + 1}: every trajectory failed; first: {first}")
            sums = update(model, reference, optimizer, rows, trajectories, config, world)
            if not math.isfinite(sums["loss"]):
                kept = latest(run)
                raise TrainError(
                    f"step {step + 1}: the loss is {sums['loss']} (not finite); stopped without updating. "
                    f"Last good checkpoint: {kept if kept is not None else 'none yet'}"
                )
            step += 1
            seconds = _all_max(max(time.perf_counter() - started, 1e-9), world)  # the step ends with its last rank
            total = n["trajectories"]
            line = {
                "step": step,
                "reward_mean": n["reward"] / total,
                "success": n["success"] / total,
                "zero_variance_fraction": n["zero_variance"] / max(1.0, n["groups"]),
                **sums,
                "mean_turns": n["turns"] / total,
                "invalid_action_rate": n["invalid"] / max(1.0, n["turns"]),
                "failed_trajectories": int(n["failed"]),
                "truncated_rows": int(n["truncated"]),
                "jobs_retried": int(n["retried"]),
                "jobs_dropped": int(n["dropped"]),
                "rows": int(n["rows"]),
                "rows_per_s": n["rows"] / seconds,
                "tokens_per_s": n["tokens"] / seconds,
                "queries": _all_interleave([e.id for e in examples], world),
            }
            history.append(line)
            if rank == 0:
                log_file.write(json.dumps(line) + "\n")
                log_file.flush()
            progress.advance(line)
            if on_step is not None:
                on_step(line)
            if rank == 0 and (step % config.checkpoint_every == 0 or step == config.steps):
                save_checkpoint(run / "checkpoints" / f"step-{step}", model, optimizer, step, history)
    finally:
        log_file.close()
        progress.close()
    if config.plot and history and rank == 0:
        _plot(history, run / "curve.png")
    return TrainResult(
        run_dir=run, step=step, history=history, checkpoint=latest(run), model=model, tokenizer=tokenizer
    )


def _remote(
    config: FlowGRPOConfig, model: Any, tokenizer: Any, examples: list[Example], seeds: list[int], step: int, rank: int
) -> tuple[list[Trajectory], Any]:
    from .remote import publish_weights, remote_rollouts

    weights = publish_weights(model, tokenizer, config.run_dir / "weights" / f"rank{rank}", step)
    return remote_rollouts(
        config.redis_url or "",
        config.model_dump(mode="json"),
        examples,
        seeds,
        weights=weights,
        version=step,
        group=config.group,
        temperature=config.temperature,
        max_new_tokens=config.max_new_tokens,
        tag=f"s{step}",
        address=config.worker_address,
        namespace=config.redis_namespace,
        timeout=config.redis_timeout,
    )


class _Progress:
    """A rich progress bar with the step's reward and success (nothing when disabled)."""

    def __init__(self, total: int, done: int, *, enabled: bool) -> None:
        self.bar: Any = None
        if enabled:
            from rich.progress import Progress

            self.bar = Progress(transient=False)
            self.bar.start()
            self.task = self.bar.add_task("flow-grpo", total=total, completed=done)

    def advance(self, line: dict[str, Any]) -> None:
        if self.bar is not None:
            text = f"flow-grpo reward {line['reward_mean']:.2f} success {line['success']:.2f} kl {line['kl']:.4f}"
            self.bar.update(self.task, advance=1, description=text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _plot(history: list[dict[str, Any]], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # the plot extra is not installed: the JSONL log has the same numbers
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = [h["step"] for h in history]
    for key in ("reward_mean", "success", "zero_variance_fraction"):
        ax.plot(steps, [h[key] for h in history], label=key)
    ax.set_xlabel("step")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
