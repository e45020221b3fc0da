"""A diffusers scheduler (DDPM, DDIM, FlowMatchEulerDiscrete, ...) and denoiser used as a sampler.

diffusers counts time the other way (timestep 1000 or sigma 1 is noise); the conversion happens
here and only here. Its loop is the scheduler's own: `set_timesteps`, then per timestep
`scale_model_input`, the network, `step`; one network evaluation per timestep.

    unet = UNet2DModel(**tiny_config)               # or DiffusersSampler.from_pretrained(folder)
    sampler = DiffusersSampler(unet, DDIMScheduler())
    out = sampler.sample(torch.randn(4, 1, 8, 8), steps=10)     # out.nfe == 10

`FlowMatchAdapter` goes the other way: a velocity model of this package run by diffusers'
FlowMatchEulerDiscreteScheduler, which predicts noise - data at sigma = 1 - t.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .errors import NonFiniteVelocity, ShapeMismatch, StepsError, UnknownModel
from .solvers import SampleResult
from .types import VelocityModel, nfe_per_call

__all__ = ["DiffusersSampler", "FlowMatchAdapter", "SCHEDULERS"]

SCHEDULERS = {
    "ddpm": "DDPMScheduler",
    "ddim": "DDIMScheduler",
    "flow-match-euler": "FlowMatchEulerDiscreteScheduler",
}


class FlowMatchAdapter:
    """A velocity model (t = 0 noise) as a diffusers flow-match denoiser: out(x, timestep) = -v(x, 1 - sigma)."""

    def __init__(self, model: VelocityModel, *, num_train_timesteps: int = 1000) -> None:
        self.model = model
        self.num_train_timesteps = num_train_timesteps
        self.nfe_per_call = nfe_per_call(model)

    def __call__(self, x: Tensor, timestep: Tensor, **extras: Any) -> Tensor:
        sigma = timestep.to(x.dtype) / self.num_train_timesteps
        t = (1 - sigma).reshape(-1).expand(x.shape[0])
        return -self.model(x, t, **extras)


class DiffusersSampler:
    """Runs a diffusers scheduler's loop with a denoiser (a diffusers model, or any callable (x, timestep) -> tensor)."""

    def __init__(self, model: Any, scheduler: Any) -> None:
        self.model = model
        self.scheduler = scheduler

    @classmethod
    def from_pretrained(cls, folder: str | Path, *, scheduler: str | None = None, **kwargs: Any) -> DiffusersSampler:
        """A pipeline folder (model_index.json with unet/ and scheduler/) or a model folder; no download
        unless `folder` is a Hub id and the network allows it. `scheduler` replaces the saved one by name."""
        import diffusers

        loaders: Any = diffusers  # diffusers is untyped
        path = Path(folder)
        try:
            if (path / "model_index.json").is_file() or not path.exists():
                pipe = loaders.DiffusionPipeline.from_pretrained(str(folder), **kwargs)
                model, sched = pipe.unet, pipe.scheduler
            else:
                model = loaders.UNet2DModel.from_pretrained(str(folder), **kwargs)
                sched = loaders.DDIMScheduler()
        except (OSError, ValueError) as exc:
            raise UnknownModel(str(folder), f"diffusers could not load it ({type(exc).__name__}: {exc})") from None
        if scheduler is not None:
            sched = cls.scheduler_named(scheduler, sched.config)
        return cls(model, sched)

    @staticmethod
    def scheduler_named(name: str, config: Any = None, **overrides: Any) -> Any:
        """A diffusers scheduler by short name (`SCHEDULERS`), built from `config` when given, then `overrides`
        (pass overrides as keywords: diffusers resets keys a saved config marks as defaults)."""
        import diffusers

        if name not in SCHEDULERS:
            from .errors import UnknownSolver

            raise UnknownSolver(name, list(SCHEDULERS))
        kind = getattr(diffusers, SCHEDULERS[name])
        return kind.from_config(config, **overrides) if config is not None else kind(**overrides)

    def sample(
        self, x_init: Tensor, *, steps: int, generator: torch.Generator | None = None, **model_extras: Any
    ) -> SampleResult:
        """Denoise `x_init` (standard normal noise, `(batch_size, ...)`) in `steps` scheduler steps."""
        if not isinstance(steps, int) or steps < 1:
            raise StepsError(f"steps must be an integer >= 1, got {steps!r}")
        sched = self.scheduler
        sched.set_timesteps(steps, device=x_init.device)
        takes_generator = "generator" in inspect.signature(sched.step).parameters
        x = x_init * getattr(sched, "init_noise_sigma", 1.0)  # flow-match schedulers start at sigma 1
        calls = 0
        with torch.no_grad():
            for i, timestep in enumerate(sched.timesteps):
                inp = sched.scale_model_input(x, timestep) if hasattr(sched, "scale_model_input") else x
                out = self.model(inp, timestep, **model_extras)
                out = getattr(out, "sample", out)
                calls += 1
                if out.shape != x.shape:
                    raise ShapeMismatch(tuple(x.shape), tuple(out.shape), where=type(self.model).__name__)
                extra = {"generator": generator} if takes_generator else {}
                x = sched.step(out, timestep, x, **extra).prev_sample
                if not bool(torch.isfinite(x).all()):
                    raise NonFiniteVelocity(step=i, t=float(timestep), what="denoiser output")
        return SampleResult(x=x, nfe=calls * nfe_per_call(self.model))
