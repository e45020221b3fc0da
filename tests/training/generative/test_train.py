"""Generative training: short real runs whose loss falls and whose samples move toward the data."""

from __future__ import annotations

import json

import pytest
import torch

from aiflows import ConfigError
from aiflows.generative import CheckpointMismatch
from aiflows.generative.metrics import sliced_w2
from aiflows.generative.nets import build_net, load_checkpoint
from aiflows.generative.paths import CondOTPath
from training.generative.config import GenTrainConfig, load_config
from training.generative.data import dataset
from training.generative.train import get_lr, ot_pair, sample, train

TINY = dict(hidden=128, depth=3, batch_size=256, eval_samples=1000, progress=False, warmup=10, lr=3e-3)


def _noise_w2(name: str) -> float:
    data, _ = dataset(name).sample(1000, torch.Generator().manual_seed(2))
    return sliced_w2(torch.randn(1000, *data.shape[1:], generator=torch.Generator().manual_seed(1)), data)


@pytest.mark.slow
def test_cfm_on_moons_reaches_a_sliced_w2_bound(tmp_path):
    config = GenTrainConfig(out_dir=str(tmp_path), data="moons", steps=600, eval_every=200, **TINY)
    result = train(config)
    first, last = sum(result.losses[:50]) / 50, sum(result.losses[-50:]) / 50
    assert last < 0.85 * first
    w2 = [e["sliced_w2"] for e in result.evals]
    assert w2[-1] < 0.16 < _noise_w2("moons")  # noise is ~0.34 away, the data-against-data floor ~0.06
    for name in ("ckpt.pt", "curves.png", "samples_000600.png", "log.jsonl"):
        assert (tmp_path / name).stat().st_size > 0
    loaded = load_checkpoint(result.checkpoint)
    x, nfe = sample(loaded.net, loaded.config, 500, steps=16, method="heun")
    assert nfe == 32 and x.shape == (500, 2)


def _boundary_loss(net):
    """The flow-matching loss of u(x, s, s) on one fixed batch of moons: the boundary both objectives learn."""
    gen = torch.Generator().manual_seed(123)
    x1, _ = dataset("moons").sample(1024, gen)
    x0 = torch.randn(1024, 2, generator=gen)
    s = torch.rand(1024, generator=gen)
    point = CondOTPath().sample(x0, x1, s)
    with torch.no_grad():
        return float(((net(point.x_t, s, s) - point.dx_t) ** 2).mean())


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["meanflow", "splitmeanflow"])
def test_average_velocity_objectives_train_and_sample_in_one_step(tmp_path, objective):
    small = {**TINY, "hidden": 64, "depth": 2, "batch_size": 128, "eval_samples": 500}
    config = GenTrainConfig(
        out_dir=str(tmp_path), data="moons", objective=objective, steps=300, eval_every=300, **small
    )
    result = train(config)
    assert result.evals[-1]["nfe"] == 1.0  # the evaluation sampled in one jump
    torch.manual_seed(config.seed)  # the initial network of the run
    before = build_net(load_checkpoint(result.checkpoint).config)
    after = load_checkpoint(result.checkpoint, use_ema=False).net
    assert _boundary_loss(after) < 0.9 * _boundary_loss(before)  # about 2.2 to 1.6 at the optimum


@pytest.mark.slow
def test_logit_normal_times_are_meanflows_and_change_the_run(tmp_path):
    """MeanFlow's time sampler: sigmoid(N(mean, std)), inside (0, 1), centred at sigmoid(mean)."""
    from training.generative.train import _times

    config = GenTrainConfig(time_sampler="logit_normal", time_mean=0.4, time_std=1.0)
    t = _times(config, 20000, torch.Generator().manual_seed(0))
    assert bool(((t > 0) & (t < 1)).all())
    assert abs(float(t.median()) - torch.sigmoid(torch.tensor(0.4)).item()) < 0.02
    assert float(_times(GenTrainConfig(), 20000, torch.Generator().manual_seed(0)).std()) > float(t.std())
    small = {**TINY, "hidden": 32, "depth": 2, "batch_size": 64, "eval_samples": 100, "eval_every": 5}
    runs = [
        train(
            GenTrainConfig(out_dir=str(tmp_path / name), data="moons", objective="meanflow", steps=5, **small, **extra)
        )  # fmt: skip
        for name, extra in (("uniform", {}), ("logit", {"time_sampler": "logit_normal", "adaptive_power": 1.0}))
    ]
    assert runs[0].losses != runs[1].losses and all(map(torch.isfinite, torch.tensor(runs[1].losses)))
    with pytest.raises(ConfigError, match="time_sampler"):
        load_config(None, ["time_sampler=beta"])


@pytest.mark.slow
def test_resumed_run_equals_an_uninterrupted_one(tmp_path):
    common = {**TINY, "data": "checkerboard", "eval_every": 1000, "checkpoint_every": 5, "eval_samples": 200}
    whole = train(GenTrainConfig(out_dir=str(tmp_path / "a"), steps=12, **common))
    train(GenTrainConfig(out_dir=str(tmp_path / "b"), steps=6, **common))
    resumed = train(GenTrainConfig(out_dir=str(tmp_path / "b"), steps=12, **common))
    assert resumed.losses == whole.losses
    a, b = torch.load(whole.checkpoint, weights_only=True), torch.load(resumed.checkpoint, weights_only=True)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert all(torch.equal(a["ema"][k], b["ema"][k]) for k in a["ema"])
    lines = [json.loads(line) for line in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    steps = [line["step"] for line in lines if "loss" in line]
    assert steps[:12] == list(range(1, 13))


def test_resuming_into_another_architecture_is_refused(tmp_path):
    common = dict(data="moons", eval_every=1000, eval_samples=100, progress=False)
    train(GenTrainConfig(out_dir=str(tmp_path), steps=2, hidden=16, depth=1, **common))
    with pytest.raises(CheckpointMismatch, match="holds a velocity mlp.*hidden 16.*use another out_dir"):
        train(GenTrainConfig(out_dir=str(tmp_path), steps=4, hidden=32, depth=1, **common))


@pytest.mark.slow
def test_class_conditional_digits_with_ot_pairing_and_guidance(tmp_path):
    config = GenTrainConfig(
        out_dir=str(tmp_path), data="digits", class_conditional=True, ot_pairing=True, steps=250, eval_every=250,
        cfg_scale=2.0, sample_steps=8, **TINY,
    )  # fmt: skip
    result = train(config)
    assert result.evals[-1]["nfe"] == 16.0  # 8 Euler steps, two evaluations each under guidance
    assert result.evals[-1]["sliced_w2"] < 0.8 * _noise_w2("digits")
    assert (tmp_path / "samples_000250.png").stat().st_size > 0


def test_ot_pairing_lowers_the_transport_cost():
    gen = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(64, 2, generator=gen), torch.randn(64, 2, generator=gen) + 3
    paired = ot_pair(x0, x1)
    assert sorted(paired.tolist()) == sorted(x0.tolist())  # a permutation of the noise
    assert ((paired - x1) ** 2).sum() < ((x0 - x1) ** 2).sum()


def test_config_file_then_overrides_and_bad_keys(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("data: digits\nsteps: 10\n")
    config = load_config(file, ["steps=20", "objective=meanflow"])
    assert (config.data, config.steps, config.objective) == ("digits", 20, "meanflow")
    with pytest.raises(ConfigError, match="stepz: Extra inputs are not permitted"):
        load_config(file, ["stepz=3"])
    with pytest.raises(ConfigError, match="objective: Input should be 'cfm', 'meanflow' or 'splitmeanflow'"):
        load_config(None, ["objective=ddpm"])
    with pytest.raises(ConfigError, match="not key=value"):
        load_config(None, ["steps"])
    lrs = [get_lr(i, GenTrainConfig(steps=100, warmup=10)) for i in range(100)]
    assert lrs[0] < lrs[9] == max(lrs) and lrs[-1] == pytest.approx(1e-4, rel=0.01)
