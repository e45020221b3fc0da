"""aiflows/generative: a sampler as a tool flow.

Input names a model (checkpoint path, alias from the config, or `diffusers:<folder>`), how many
samples, the solver and its steps, guidance and its scale, a class and a seed. Output holds
references to the artifacts it wrote (an npz of the samples and labels, a PNG picture) in the
configured artifact store, the network evaluations used and the wall time. Each worker loads a
model once and keeps it warm; sampling runs in a thread so the worker keeps answering other calls.

    aiflows serve flows_hub/generative/serve.yaml --address gen/sampler --redis redis://gpu-box:6379/0  # GPU box
    aiflows call gen/sampler --input '{"model": "digits", "label": 7, "steps": 2}' --redis ...
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aiflows import AtomicFlow, Context

__all__ = ["SamplerFlow"]


class ArtifactRefModel(BaseModel):
    """Where an artifact is (file:// path or redis:// URL with its key), its kind, hash and size."""

    uri: str
    kind: Literal["npz", "png"]
    media_type: str
    sha256: str
    size: int


class SamplerFlow(AtomicFlow):
    """Draws samples (images or points) from a generative model and returns where they were written.

    Pick `label` for the class (a digit for digit models), `guidance`="cfg" with a `guidance_scale`
    above 1 for sharper, more typical samples (2-4; higher is less varied), and `steps` for quality
    against speed (few-step models: 1-2; flow models: 8-32). The answer's `picture` is a PNG to show.
    """

    class Input(BaseModel):
        model_config = ConfigDict(extra="forbid")

        model: str = Field(
            description="an alias from the flow's config, a checkpoint path under its model root, or diffusers:<folder>"
        )
        num_samples: int = Field(16, ge=1, le=100_000, description="how many samples")
        solver: str = Field(
            "auto",
            description="euler, midpoint, heun, rk4, rk4_38, dopri5, average (MeanFlow-style jumps), ddim, ddpm, ...",
        )
        steps: int = Field(16, ge=1, le=10_000, description="solver steps (ignored by dopri5)")
        guidance: Literal["none", "cfg"] = Field("none", description="classifier-free guidance for class models")
        guidance_scale: float = Field(1.0, description="the CFG scale: 1 is the conditional model, more is sharper")
        label: int | None = Field(None, description="the class every sample is drawn from (class-conditional models)")
        seed: int = Field(0, description="the noise seed: the same request gives the same samples")

    class Output(BaseModel):
        result: str  # one line for people and agents: what was drawn and where the picture is
        samples: ArtifactRefModel  # npz with `x` (num_samples, ...) and `labels` when the model has classes
        picture: ArtifactRefModel  # PNG: an image grid, or a density map of 2-D points
        nfe: int  # network evaluations per sample
        wall_s: float  # seconds spent sampling (model already loaded)
        shape: list[int]
        model: str

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")

        models: dict[str, str] = Field(default_factory=dict)  # alias -> checkpoint path or diffusers:<folder>
        model_root: str | None = None  # relative model paths start here (default: the working directory)
        # requests may name any checkpoint path, diffusers folder or Hub id on the worker (trusted callers
        # only); by default they name an alias or a file under model_root
        any_path: bool = False
        artifacts: str = "file"  # 'file' ($AIFLOWS_HOME/artifacts), a folder, or a redis:// URL
        device: str = "auto"  # the generative device setting: auto, cpu, cuda[:bf16][:compile|:graphs]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cache: Any = None  # built on the first call, in the process that serves the flow
        self._store: Any = None

    def _warm(self) -> tuple[Any, Any]:
        if self._cache is None:
            from aiflows.generative.artifacts import open_artifacts
            from aiflows.generative.sampling import ModelCache

            root = Path(self.config.model_root) if self.config.model_root else None
            self._store = open_artifacts(self.config.artifacts)
            self._cache = ModelCache(
                device=self.config.device, aliases=self.config.models, root=root, any_path=self.config.any_path
            )
        return self._cache, self._store

    async def handle(self, ctx: Context, data: BaseModel) -> Output:
        return await asyncio.to_thread(self._sample, data)

    def _sample(self, data: BaseModel) -> SamplerFlow.Output:
        import numpy as np

        from aiflows.generative.artifacts import npz_bytes, picture, png_bytes
        from aiflows.generative.sampling import SampleRequest, run_request

        cache, store = self._warm()
        run = run_request(cache, SampleRequest.model_validate(data.model_dump()))
        arrays: dict[str, Any] = {"x": run.samples.astype(np.float32)}
        if run.labels is not None:
            arrays["labels"] = run.labels
        samples = store.put(npz_bytes(**arrays), "npz")
        shown = run.samples[:100] if run.samples.ndim == 4 else run.samples
        grid = store.put(png_bytes(picture(shown)), "png")
        request = data.model_dump()
        what = f"class {request['label']}" if request["label"] is not None else "any class"
        guided = f", cfg scale {request['guidance_scale']:g}" if request["guidance"] == "cfg" else ""
        return self.Output(
            result=f"{len(run.samples)} samples of {what} from {request['model']} ({run.nfe} NFE{guided}); "
            f"picture: {grid.uri}; arrays: {samples.uri}",
            samples=ArtifactRefModel(**samples.model_dump()),
            picture=ArtifactRefModel(**grid.model_dump()),
            nfe=run.nfe,
            wall_s=run.wall_s,
            shape=list(run.samples.shape),
            model=request["model"],
        )
