"""One sampling request, from a model reference to arrays: what a sampler tool flow runs per call.

A model reference is a checkpoint file of this package (`runs/moons/ckpt.pt`), an alias the server's
config maps to one, or `diffusers:<folder>` (a saved diffusers pipeline or UNet); paths in requests
stay under the model root unless the server trusts its callers (`any_path`). `ModelCache`
loads each once and keeps it warm for the life of the process; loading and sampling hold a lock
per model, so threads share it safely.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field

from .average import AverageAsVelocity, AverageSampler
from .device import DeviceSettings, OnDevice
from .diffusion import SCHEDULERS, DiffusersSampler
from .errors import GenerativeError, UnknownModel, UnknownSolver
from .guidance import ClassifierFreeGuidance
from .nets import NetConfig, load_checkpoint
from .solvers import SOLVERS, ODESolver

__all__ = ["LoadedModel", "ModelCache", "SampleRequest", "SampleRun", "run_request"]


class SampleRequest(BaseModel):
    """What to sample: the model, how many, which solver and how many steps, guidance, class and seed."""

    model_config = ConfigDict(extra="forbid")

    model: str  # checkpoint path, alias, or diffusers:<folder>
    num_samples: int = Field(16, ge=1, le=100_000)
    solver: str = "auto"  # SOLVERS (euler ... dopri5); average (few-step models); ddim, ddpm, flow-match-euler
    steps: int = Field(16, ge=1, le=10_000)
    guidance: Literal["none", "cfg"] = "none"
    guidance_scale: float = 1.0
    label: int | None = None  # the class of class-conditional models (all samples), or None for any class
    seed: int = 0


@dataclass
class LoadedModel:
    kind: Literal["velocity", "average", "diffusers"]
    runner: Any  # the network on its device, or a DiffusersSampler
    config: NetConfig | None
    lock: threading.Lock


class ModelCache:
    """Models by reference, loaded on first use on the device setting's device and kept.

    A reference is an alias (the server's own config: any path, folder or Hub id it names) or, from a
    request, a checkpoint file or `diffusers:<folder>` under `root`. Requests come from whoever can
    reach the worker, so by default they cannot name files elsewhere on its disk (absolute paths, `..`,
    symlinks out of the root) or make it download a Hub repository; `any_path=True` lifts that for
    trusted callers.
    """

    def __init__(
        self,
        *,
        device: str | None = None,
        aliases: dict[str, str] | None = None,
        root: Path | None = None,
        any_path: bool = False,
    ) -> None:
        self.settings = DeviceSettings.parse(device)
        self.aliases = dict(aliases or {})
        self.root = root or Path.cwd()
        self.any_path = any_path
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def get(self, reference: str) -> LoadedModel:
        target = self.aliases.get(reference)
        if target is None:
            target = reference
            if not self.any_path:
                self._confine(reference)
        with self._lock:
            if target not in self._models:
                self._models[target] = self._load(reference, target)
            return self._models[target]

    def _load(self, reference: str, target: str) -> LoadedModel:
        if target.startswith("diffusers:"):
            sampler = DiffusersSampler.from_pretrained(self._path(target[len("diffusers:") :]))
            sampler.model.to(self.settings.torch_device)
            return LoadedModel("diffusers", sampler, None, threading.Lock())
        path = self._path(target)
        if not path.is_file():
            raise UnknownModel(reference, f"no checkpoint at {path} and no alias of that name ({self._known()})")
        loaded = load_checkpoint(path)
        runner: OnDevice = self.settings.prepare(loaded.net)
        return LoadedModel(loaded.config.kind, runner, loaded.config, threading.Lock())

    def _path(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.root / path

    def _confine(self, reference: str) -> None:
        """Refuse a requested path that leaves the model root (after symlinks) or a folder that is not there."""
        folder = reference.startswith("diffusers:")
        text = reference[len("diffusers:") :] if folder else reference
        root = self.root.resolve()
        if Path(text).is_absolute() or text.startswith("~") or not (root / text).resolve().is_relative_to(root):
            raise UnknownModel(
                reference, f"requests may name an alias or a path under the model root {root} ({self._known()})"
            )
        if folder and not (root / text).is_dir():
            raise UnknownModel(reference, f"no diffusers folder at {root / text} (Hub ids only through an alias)")

    def _known(self) -> str:
        return f"aliases: {', '.join(sorted(self.aliases)) or 'none'}"


@dataclass
class SampleRun:
    samples: Any  # numpy (num_samples, ...) float32
    labels: Any | None
    nfe: int
    wall_s: float


def run_request(cache: ModelCache, request: SampleRequest) -> SampleRun:
    """Sample as `request` says; typed errors for unknown models and solvers, guidance without classes."""
    model = cache.get(request.model)
    start = time.perf_counter()
    gen = torch.Generator().manual_seed(request.seed)
    device = cache.settings.torch_device
    with model.lock:
        if model.kind == "diffusers":
            name = "ddim" if request.solver == "auto" else request.solver
            if name not in SCHEDULERS:
                raise UnknownSolver(name, list(SCHEDULERS))
            sampler: DiffusersSampler = model.runner
            sampler.scheduler = DiffusersSampler.scheduler_named(name, sampler.scheduler.config)
            cfg = sampler.model.config
            x0 = torch.randn(request.num_samples, cfg.in_channels, cfg.sample_size, cfg.sample_size, generator=gen)
            out = sampler.sample(x0.to(device), steps=request.steps, generator=gen)
            return SampleRun(out.x.float().cpu().numpy(), None, out.nfe, time.perf_counter() - start)
        config = model.config
        assert config is not None
        extras: dict[str, Any] = {}
        labels = None
        if config.num_classes:
            if request.label is not None and not 0 <= request.label < config.num_classes:
                raise GenerativeError(
                    f"label {request.label} is outside this model's classes 0..{config.num_classes - 1}"
                )
            labels = (
                torch.full((request.num_samples,), request.label)
                if request.label is not None
                else torch.randint(0, config.num_classes, (request.num_samples,), generator=gen)
            )
            extras["y"] = labels.to(device)
        elif request.label is not None or request.guidance != "none":
            raise GenerativeError(f"model '{request.model}' is unconditional: it takes no label and no guidance")
        x0 = torch.randn(request.num_samples, *config.shape, generator=gen).to(device)
        solver = request.solver
        if solver in ("auto", "average"):
            solver = "average" if model.kind == "average" else ("euler" if solver == "auto" else solver)
        if solver == "average":
            if model.kind != "average":
                raise UnknownSolver("average", list(SOLVERS))  # only average-velocity models jump
            if request.guidance == "cfg":
                raise GenerativeError(
                    "classifier-free guidance needs a velocity solver for average models (e.g. euler)"
                )
            result = AverageSampler(model.runner).sample(x0, steps=request.steps, **extras)
        else:
            if solver not in SOLVERS:
                raise UnknownSolver(solver, [*SOLVERS, "average"] if model.kind == "average" else list(SOLVERS))
            velocity: Any = AverageAsVelocity(model.runner) if model.kind == "average" else model.runner
            if request.guidance == "cfg":
                velocity = ClassifierFreeGuidance(velocity, request.guidance_scale, null_label=config.num_classes)
            steps = None if solver == "dopri5" else request.steps
            result = ODESolver(velocity).sample(x0, method=solver, steps=steps, **extras)
        arrays = result.x.float().cpu().numpy()
    return SampleRun(arrays, None if labels is None else labels.numpy(), result.nfe, time.perf_counter() - start)
