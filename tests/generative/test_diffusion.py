"""diffusers schedulers as samplers, with a tiny randomly initialised UNet built from its config."""

from __future__ import annotations

import pytest
import torch

from aiflows.generative import StepsError, UnknownModel, UnknownSolver
from aiflows.generative.diffusion import SCHEDULERS, DiffusersSampler, FlowMatchAdapter
from aiflows.generative.paths import CondOTPath, gaussian_velocity
from aiflows.generative.solvers import ODESolver

diffusers = pytest.importorskip("diffusers")

TINY_UNET = dict(
    sample_size=8,
    in_channels=1,
    out_channels=1,
    layers_per_block=1,
    block_out_channels=(8, 16),
    down_block_types=("DownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "UpBlock2D"),
    norm_num_groups=4,
)


@pytest.fixture(scope="module")
def unet():
    torch.manual_seed(0)
    return diffusers.UNet2DModel(**TINY_UNET).eval()


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_each_scheduler_runs_the_tiny_unet_with_one_nfe_per_step(unet, name):
    sampler = DiffusersSampler(unet, DiffusersSampler.scheduler_named(name))
    noise = torch.randn(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    a = sampler.sample(noise, steps=4, generator=torch.Generator().manual_seed(1))
    b = sampler.sample(noise, steps=4, generator=torch.Generator().manual_seed(1))
    assert a.x.shape == noise.shape and a.nfe == 4
    assert torch.equal(a.x, b.x)  # seeded: the same images again
    assert not torch.equal(a.x, noise)


def test_from_pretrained_reads_a_saved_pipeline_folder(unet, tmp_path):
    pipe = diffusers.DDPMPipeline(unet=unet, scheduler=diffusers.DDPMScheduler())
    pipe.save_pretrained(tmp_path / "pipe")
    sampler = DiffusersSampler.from_pretrained(tmp_path / "pipe", scheduler="ddim")
    assert type(sampler.scheduler).__name__ == "DDIMScheduler"
    assert sampler.sample(torch.randn(1, 1, 8, 8), steps=3).nfe == 3
    with pytest.raises(UnknownModel, match="diffusers could not load it"):
        DiffusersSampler.from_pretrained(tmp_path / "nothing-here")


def test_flow_match_euler_scheduler_equals_our_euler_on_its_grid():
    mean = torch.tensor([2.0, -1.0])
    velocity = gaussian_velocity(CondOTPath(), mean, 0.5)
    scheduler = DiffusersSampler.scheduler_named("flow-match-euler")
    x0 = torch.randn(256, 2, generator=torch.Generator().manual_seed(0))
    theirs = DiffusersSampler(FlowMatchAdapter(velocity), scheduler).sample(x0, steps=16)
    ours = ODESolver(velocity).sample(x0, method="euler", time_grid=1 - scheduler.sigmas)  # sigma = 1 - t
    assert theirs.nfe == ours.nfe == 16
    assert float((theirs.x - ours.x).abs().max()) < 1e-5


def test_ddim_with_the_exact_noise_prediction_reaches_the_gaussian():
    scheduler = DiffusersSampler.scheduler_named("ddim", clip_sample=False, timestep_spacing="trailing")
    alphas = scheduler.alphas_cumprod
    mean, std = 2.0, 0.5

    def eps(x, timestep):  # E[noise | x_t] for data N(mean, std^2)
        a = alphas[int(timestep)].to(x.dtype)
        return (1 - a).sqrt() * (x - a.sqrt() * mean) / (a * std**2 + 1 - a)

    out = DiffusersSampler(eps, scheduler).sample(
        torch.randn(20000, 1, generator=torch.Generator().manual_seed(0)), steps=50
    )
    assert abs(float(out.x.mean()) - mean) < 0.02
    assert abs(float(out.x.std()) - std) < 0.03


def test_bad_input(unet):
    with pytest.raises(UnknownSolver, match="unknown solver 'euler-a'"):
        DiffusersSampler.scheduler_named("euler-a")
    with pytest.raises(StepsError):
        DiffusersSampler(unet, DiffusersSampler.scheduler_named("ddim")).sample(torch.randn(1, 1, 8, 8), steps=0)
