"""`FlowGRPOConfig`: everything a Flow-GRPO run needs, from a YAML file or Python, checked up front.

    agent: kbqa-scripted       # a registered agent, an agent YAML file (agents/, as `aiflows run` takes; its
                               # planner's model becomes the policy), or module:function(task, max_turns, folder)
    task: kbqa                 # an eval-harness task (kbqa, gsm8k, game24): examples and exact scorer
    policy: tiny               # a transformers folder, or `tiny` (a random model built in the run folder)
    group: 8                   # G rollouts per query
    queries: 4                 # queries per step
    steps: 20
    out: runs/flow-grpo

Unknown keys and bad values stop the run before anything starts, with the key named.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import _config
from .advantages import Credit
from .loss import LossAgg

__all__ = ["FlowGRPOConfig", "load_config"]

AGENTS = ("kbqa-scripted",)
TASKS = ("kbqa", "gsm8k", "game24")


class FlowGRPOConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str = "kbqa-scripted"
    task: str = "kbqa"
    split: str | None = "train"
    task_kinds: list[str] = Field(default_factory=list)  # kbqa: keep only these question kinds
    task_limit: int | None = Field(default=None, ge=1)
    data_dir: str | None = None
    policy: str = "tiny"
    tiny_actions: list[str] = Field(default_factory=list)  # the tiny policy's action words (empty: the agent's)
    lora_r: int = Field(default=0, ge=0)  # > 0: train LoRA adapters (peft); the reference = adapters disabled
    group: int = Field(default=8, ge=1)
    queries: int = Field(default=4, ge=1)
    max_turns: int = Field(default=3, ge=1)
    max_new_tokens: int = Field(default=16, ge=1)
    temperature: float = Field(default=0.7, gt=0)
    lr: float = Field(default=1e-6, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    clip_low: float = Field(default=0.2, ge=0, lt=1)
    clip_high: float = Field(default=0.3, ge=0)
    kl_coef: float = Field(default=0.001, ge=0)
    entropy_coef: float = Field(default=0.0, ge=0)
    credit: Credit = "broadcast"
    loss_agg: LossAgg = "token_mean"
    minibatch: int = Field(default=32, ge=1)  # rows per backward pass (gradient accumulation over a step)
    grad_clip: float = Field(default=1.0, gt=0)
    steps: int = Field(default=20, ge=1)
    checkpoint_every: int = Field(default=10, ge=1)
    seed: int = 0
    # where the policy trains: auto = this rank's GPU when CUDA is present, else the CPU; or cpu, cuda, cuda:N
    device: str = "auto"
    dtype: Literal["float32", "bfloat16"] = "float32"  # the policy's weights (bfloat16 halves GPU memory)
    # rollouts by `aiflows serve training.flow_grpo.remote:RolloutWorker` processes instead of in-process
    redis_url: str | None = None
    redis_namespace: str = "aiflows"  # the workers' --namespace
    worker_address: str = "flow-grpo-rollouts"  # the workers' --address
    redis_timeout: float = Field(default=300.0, gt=0)  # seconds a query's rollouts may take before it is sent again
    out: str = "runs/flow-grpo"
    progress: bool = True
    plot: bool = True

    @field_validator("agent")
    @classmethod
    def _agent(cls, value: str) -> str:
        if value.endswith((".yaml", ".yml")):
            if not Path(value).is_file():
                raise ValueError(f"no agent file at {value!r} (from {Path.cwd()})")
            return value
        if value not in AGENTS and ":" not in value:
            raise ValueError(
                f"unknown agent {value!r}: one of {', '.join(AGENTS)}, an agent .yaml file or module:function"
            )
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        kind, _, index = value.partition(":")
        if kind not in ("auto", "cpu", "cuda") or (index and (kind != "cuda" or not index.isdigit())):
            raise ValueError(f"unknown device {value!r}: auto, cpu, cuda or cuda:N")
        return value

    @field_validator("task")
    @classmethod
    def _task(cls, value: str) -> str:
        if value not in TASKS:
            raise ValueError(f"unknown task {value!r}: one of {', '.join(TASKS)}")
        return value

    @property
    def run_dir(self) -> Path:
        return Path(self.out)


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> FlowGRPOConfig:
    """The config of a YAML file (optional) with `key=value` overrides (values read as YAML).

    An agent file named in the config file is looked for beside that file first.

    Raises:
        ConfigError: the file is missing or not a mapping, or a key is unknown or its value bad.
    """
    return _config.load_config(FlowGRPOConfig, path, overrides or [], from_file=_agent_beside)


def _agent_beside(data: dict[str, Any], file: Path) -> None:
    """A relative agent file in a config names the file beside the config when one is there."""
    agent = data.get("agent")
    if isinstance(agent, str) and agent.endswith((".yaml", ".yml")) and not Path(agent).is_absolute():
        beside = file.parent / agent
        data["agent"] = str(beside.resolve()) if beside.is_file() else agent
