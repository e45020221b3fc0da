"""The configuration of a generative training run: one flat record, a YAML file first, then key=value overrides.

out_dir: runs/moons-meanflow
data: moons
objective: meanflow
steps: 3000
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .. import _config

__all__ = ["GenTrainConfig", "load_config"]


class GenTrainConfig(BaseModel):
    """Every knob of `train.train`; unknown keys and wrong types are refused."""

    model_config = ConfigDict(extra="forbid")

    # where and what
    out_dir: str = "runs/gen"  # checkpoint, log.jsonl, PNGs
    data: Literal["8gaussians", "moons", "checkerboard", "digits"] = "moons"
    objective: Literal["cfm", "meanflow", "splitmeanflow"] = "cfm"
    path: Literal["condot", "cosine", "vp"] = "condot"  # cfm only; MeanFlow and SplitMeanFlow use straight lines
    ot_pairing: bool = False  # pair noise and data in each batch by exact OT (POT): straighter paths
    class_conditional: bool = False  # labels as input (digits: 0-9; 8gaussians: the mode), dropped for CFG
    label_dropout: float = 0.1  # fraction of labels replaced by "no label" so CFG has an unconditional model
    # network
    hidden: int = 256
    depth: int = 4
    # optimisation
    steps: int = 3000  # optimizer steps in all (a resumed run continues to this number)
    batch_size: int = 256
    lr: float = 2e-3
    warmup: int = 100  # linear warm-up steps, then cosine decay to min_lr
    min_lr: float = 1e-4
    weight_decay: float = 0.0
    grad_clip: float = 1.0  # 0 to turn off
    ema_decay: float = 0.999  # the EMA weights are what checkpoints hand to samplers
    # average-velocity objectives
    jump_fraction: float = 0.25  # fraction of rows with s != t (the rest learn u(x, s, s) = v)
    adaptive_power: float = 0.0  # MeanFlow's adaptive loss weight power p (0: plain squared error; 1 on ImageNet)
    time_sampler: Literal["uniform", "logit_normal"] = "uniform"  # how the interval's two ends are drawn
    time_mean: float = (
        0.0  # logit-normal: sigmoid(N(time_mean, time_std)); MeanFlow's (-0.4, 1.0) is 0.4 here (t = 0 noise)
    )
    time_std: float = 1.0
    # evaluation, checkpoints, logs
    eval_every: int = 500  # steps between sample PNGs and a sliced-W2 check (and at the end)
    eval_samples: int = 2000
    sample_steps: int = 0  # steps of the evaluation sampler: 0 means 1 for average-velocity models, 32 for cfm
    sample_method: str = "euler"  # fixed-grid ODE method for cfm models
    cfg_scale: float = 1.0  # guidance scale of class-conditional samples (1: the conditional model)
    checkpoint_every: int = 500
    resume: bool = True  # continue from out_dir/ckpt.pt when it exists
    seed: int = 0
    device: str = "cpu"  # the generative device setting: auto, cpu, cuda[:bf16]
    progress: bool = True  # tqdm progress bar on stderr


def load_config(file: str | Path | None, overrides: Sequence[str] = ()) -> GenTrainConfig:
    """A config from a YAML file, then `key=value` overrides (values read as YAML scalars).

    Raises:
        ConfigError: the file is missing or not a mapping, or a key is unknown or its value bad.
    """
    return _config.load_config(GenTrainConfig, file, overrides)
