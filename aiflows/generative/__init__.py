"""Generative models as parts: velocity models, probability paths, ODE solvers, few-step samplers, guidance.

Time convention everywhere in this package: **t = 0 is noise, t = 1 is data** (see `types`).
Pieces stay apart, as paths, schedulers and solvers do in facebookresearch/flow_matching:

    types        VelocityModel v(x, t), AverageVelocityModel u(x, s, t)
    paths        affine paths (CondOT, VP, cosine) and a Gaussian flow with a closed-form solution
    solvers      ODESolver: Euler, midpoint, Heun, RK4 (exact NFE) and dopri5 (torchdiffeq); inversion
    likelihood   log p_1(x) through the divergence, exact or Hutchinson
    average      MeanFlow / SplitMeanFlow losses and 1-, 2-, k-step samplers
    guidance     classifier-free, reward-gradient and FlowChef-style steering, as velocity models
    diffusion    a diffusers scheduler or pipeline as a sampler (DDPM, DDIM, FlowMatchEulerDiscrete)
    nets         small networks (MLP, tiny UNet) and checkpoints that say what they hold
    metrics      sliced W2, exact W2 (POT) and RBF MMD between point clouds
    device       where and in what precision to run, chosen by one setting
    artifacts    where samples go: npz and PNG files other processes read by reference

Importing this package loads no torch: each name is looked up in its module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .average import AverageSampler, meanflow_loss, splitmeanflow_loss
    from .device import DeviceSettings
    from .errors import (
        CheckpointMismatch,
        GenerativeError,
        NonFiniteVelocity,
        ShapeMismatch,
        StepsError,
        UnknownModel,
        UnknownSolver,
    )
    from .guidance import ClassifierFreeGuidance, FlowChefSteering, RewardGuidance
    from .likelihood import log_likelihood
    from .paths import AffinePath, CondOTPath, CosinePath, PathSample, VPPath
    from .solvers import SOLVERS, ODESolver, SampleResult
    from .types import AverageVelocityModel, VelocityModel

__all__ = [
    "AffinePath",
    "AverageSampler",
    "AverageVelocityModel",
    "CheckpointMismatch",
    "ClassifierFreeGuidance",
    "CondOTPath",
    "CosinePath",
    "DeviceSettings",
    "FlowChefSteering",
    "GenerativeError",
    "NonFiniteVelocity",
    "ODESolver",
    "PathSample",
    "RewardGuidance",
    "SOLVERS",
    "SampleResult",
    "ShapeMismatch",
    "StepsError",
    "UnknownModel",
    "UnknownSolver",
    "VPPath",
    "VelocityModel",
    "log_likelihood",
    "meanflow_loss",
    "splitmeanflow_loss",
]

_WHERE = {
    "AffinePath": "paths",
    "AverageSampler": "average",
    "AverageVelocityModel": "types",
    "CheckpointMismatch": "errors",
    "ClassifierFreeGuidance": "guidance",
    "CondOTPath": "paths",
    "CosinePath": "paths",
    "DeviceSettings": "device",
    "FlowChefSteering": "guidance",
    "GenerativeError": "errors",
    "NonFiniteVelocity": "errors",
    "ODESolver": "solvers",
    "PathSample": "paths",
    "RewardGuidance": "guidance",
    "SOLVERS": "solvers",
    "SampleResult": "solvers",
    "ShapeMismatch": "errors",
    "StepsError": "errors",
    "UnknownModel": "errors",
    "UnknownSolver": "errors",
    "VPPath": "paths",
    "VelocityModel": "types",
    "log_likelihood": "likelihood",
    "meanflow_loss": "average",
    "splitmeanflow_loss": "average",
}


def __getattr__(name: str) -> Any:
    """Load the module that defines `name` on first use (torch is imported only then)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'aiflows.generative' has no attribute '{name}'")
    return getattr(importlib.import_module(f".{module}", __name__), name)
