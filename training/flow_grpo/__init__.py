"""Flow-GRPO: train an agent's planner inside the live agent flow (AgentFlow, arXiv 2510.05592).

The pieces, usable alone::

    from training.flow_grpo import Row, Trajectory, compute_advantages, clipped_loss, kl_k3, token_logprobs

    rows, stats = compute_advantages(trajectories, credit="broadcast")  # or "last_turn" / "shuffled"
    logp, mask, entropy = token_logprobs(model, rows, pad=tok.pad_token_id, temperature=0.7, with_entropy=True)
    old = torch.tensor(...)  # rows' old_logprobs padded like logp
    loss, clip_fraction = clipped_loss(logp, old, torch.tensor([r.advantage for r in rows]), mask)
    loss = loss + 0.001 * aggregate(kl_k3(logp, ref_logp), mask)

The loop (one call; a killed run resumes from its last checkpoint in `out`)::

    from training.flow_grpo import FlowGRPOConfig, train

    config = FlowGRPOConfig(agent="kbqa-scripted", task="kbqa", policy="path/to/hf-model", group=8, queries=4,
                            steps=100, lr=1e-6, credit="broadcast", loss_agg="token_mean", out="runs/x")
    result = train(config, on_step=print)            # result.history: one dict per step (the JSONL lines)
    # replace what the config names: agent_factory=lambda planner: my_agent(planner),
    # task=agents.eval.Task(...), policy=(model, tokenizer), reward=lambda answer, example: 1.0 or 0.0

    trajectories = collect_rollouts(agent_factory, InProcessPolicy(model, tok), task, examples, group=8,
                                    temperature=0.7, max_new_tokens=32)

`aiflows train flow-grpo config.yaml [key=value ...]` runs the same from a YAML file;
`torchrun --nproc_per_node N` around a script calling `train` splits each step's queries over ranks (NCCL between GPUs, gloo on CPU; `device: auto` puts each rank on its own GPU).

Rollouts by any number of workers (`aiflows serve training.flow_grpo.remote:RolloutWorker --redis URL
--concurrency 1` on each machine; `redis_url: URL` in the config sends each step's rollouts to them)::

    weights = publish_weights(model, tokenizer, Path("shared/weights"), version=step)
    trajectories, stats = remote_rollouts("redis://host:6379/0", config.model_dump(mode="json"), examples, seeds,
                                          weights=weights, version=step, group=8, temperature=0.7,
                                          max_new_tokens=32, tag=f"s{step}")
    # stats.retried: requests taken over from a dead worker or sent again; stats.dropped: lost, counted

Trajectories hold one `Row` per planner turn (query id = the group, rollout id, turn index, prompt and
response ids, old log-probabilities, truncated flag) and the trajectory's reward.
"""

# Names load on first use: `aiflows --help` registers `aiflows train flow-grpo` through this package,
# and must not pay for pydantic, torch or the agents to do so.
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from aiflows.lazy import lazy_exports

if TYPE_CHECKING:
    from .advantages import AdvantageStats, Credit, compute_advantages
    from .checkpoint import latest, load_checkpoint, save_checkpoint
    from .config import FlowGRPOConfig, load_config
    from .loss import LossAgg, aggregate, clipped_loss, entropy_from_logits, kl_k3, token_logprobs
    from .policy import InProcessPolicy, build_tiny_policy, load_policy
    from .remote import RemoteStats, publish_weights, remote_rollouts
    from .rollouts import AgentFactory, collect_rollouts, make_planner
    from .rows import Row, Trajectory
    from .train import TrainError, TrainResult, batch_for, train, update

_EXPORTS: dict[str, str] = {
    "AdvantageStats": ".advantages",
    "AgentFactory": ".rollouts",
    "Credit": ".advantages",
    "FlowGRPOConfig": ".config",
    "InProcessPolicy": ".policy",
    "LossAgg": ".loss",
    "RemoteStats": ".remote",
    "Row": ".rows",
    "TrainError": ".train",
    "TrainResult": ".train",
    "Trajectory": ".rows",
    "aggregate": ".loss",
    "batch_for": ".train",
    "build_tiny_policy": ".policy",
    "clipped_loss": ".loss",
    "collect_rollouts": ".rollouts",
    "compute_advantages": ".advantages",
    "entropy_from_logits": ".loss",
    "kl_k3": ".loss",
    "latest": ".checkpoint",
    "load_checkpoint": ".checkpoint",
    "load_config": ".config",
    "load_policy": ".policy",
    "make_planner": ".rollouts",
    "publish_weights": ".remote",
    "remote_rollouts": ".remote",
    "save_checkpoint": ".checkpoint",
    "token_logprobs": ".loss",
    "train": ".train",
    "update": ".train",
}

__all__ = [
    "AdvantageStats",
    "AgentFactory",
    "Credit",
    "FlowGRPOConfig",
    "InProcessPolicy",
    "LossAgg",
    "RemoteStats",
    "Row",
    "TrainError",
    "TrainResult",
    "Trajectory",
    "aggregate",
    "batch_for",
    "build_tiny_policy",
    "clipped_loss",
    "collect_rollouts",
    "compute_advantages",
    "entropy_from_logits",
    "kl_k3",
    "latest",
    "load_checkpoint",
    "load_config",
    "load_policy",
    "make_planner",
    "publish_weights",
    "remote_rollouts",
    "save_checkpoint",
    "token_logprobs",
    "train",
    "update",
]


__getattr__ = lazy_exports(globals(), _EXPORTS)


class _Package(ModuleType):
    """Keeps `train` the function: importing the submodule `.train` would set the package's `train` to it."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, ModuleType) and _EXPORTS.get(name) == "." + name:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
