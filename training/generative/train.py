"""Train a flow-matching, MeanFlow or SplitMeanFlow model, top to bottom.

    aiflows train gen config.yaml                       # a YAML file of GenTrainConfig fields
    aiflows train gen config.yaml steps=200 data=digits # then key=value overrides
    python -m training.generative.train config.yaml     # the same without the CLI

config -> data -> network -> optimizer -> resume -> loop (lr, batch, loss, clip, step, EMA, log,
evaluate and checkpoint). Writes out_dir/ckpt.pt (model, EMA, optimizer, RNG, step, config),
out_dir/log.jsonl, out_dir/samples_<step>.png and out_dir/curves.png. Running it again with the same
out_dir continues from the checkpoint to `steps`, with the same result as one uninterrupted run.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from aiflows.generative.average import AverageSampler, adaptive_weight, meanflow_loss, splitmeanflow_loss
from aiflows.generative.device import DeviceSettings
from aiflows.generative.errors import CheckpointMismatch
from aiflows.generative.guidance import ClassifierFreeGuidance
from aiflows.generative.metrics import sliced_w2
from aiflows.generative.nets import NetConfig, build_net, load_weights, save_checkpoint
from aiflows.generative.paths import AffinePath, CondOTPath, CosinePath, VPPath
from aiflows.generative.solvers import ODESolver

from .config import GenTrainConfig, load_config
from .data import Dataset, dataset

__all__ = ["TrainResult", "get_lr", "sample", "train"]

PATHS: dict[str, type[AffinePath]] = {"condot": CondOTPath, "cosine": CosinePath, "vp": VPPath}


@dataclass
class TrainResult:
    """Where the run wrote its checkpoint, the last step, the losses logged and the sliced W2 of each evaluation."""

    checkpoint: Path
    step: int
    losses: list[float] = field(default_factory=list)
    evals: list[dict[str, float]] = field(default_factory=list)


def get_lr(it: int, config: GenTrainConfig) -> float:
    """Linear warm-up, then cosine decay to min_lr at the last step."""
    if it < config.warmup:
        return config.lr * (it + 1) / config.warmup
    progress = (it - config.warmup) / max(1, config.steps - config.warmup)
    return config.min_lr + 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))) * (config.lr - config.min_lr)


def ot_pair(x0: Tensor, x1: Tensor) -> Tensor:
    """x0 reordered so that (x0[i], x1[i]) is an exact OT plan of the batch (squared Euclidean cost)."""
    import ot

    cost = torch.cdist(x0.reshape(len(x0), -1), x1.reshape(len(x1), -1)).pow(2).double().cpu().numpy()
    plan = ot.emd(ot.unif(len(x0)), ot.unif(len(x1)), cost)
    return x0[torch.as_tensor(plan.argmax(axis=0), device=x0.device)]


def train(config: GenTrainConfig) -> TrainResult:
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = out_dir / "ckpt.pt"
    device = DeviceSettings.parse(config.device).torch_device

    # -- data and network -----------------------------------------------------------------------
    data = dataset(config.data)
    num_classes = data.num_classes if config.class_conditional else 0
    average = config.objective != "cfm"
    net_config = NetConfig(
        kind="average" if average else "velocity",
        shape=list(data.shape),
        hidden=config.hidden,
        depth=config.depth,
        num_classes=num_classes,
    )
    torch.manual_seed(config.seed)
    net = build_net(net_config).to(device)
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()}
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(config.seed)  # all training randomness, saved in checkpoints
    path = CondOTPath() if average else PATHS[config.path]()
    start, losses, evals = 0, [], []

    # -- resume ---------------------------------------------------------------------------------
    if config.resume and ckpt_path.is_file():
        payload = torch.load(ckpt_path, map_location=device, weights_only=True)
        saved = NetConfig.model_validate(payload["net"])
        if saved != net_config:
            raise CheckpointMismatch(
                f"{ckpt_path} holds a {saved.kind} {saved.arch} for shape {saved.shape} (hidden {saved.hidden}, depth "
                f"{saved.depth}, classes {saved.num_classes}); this config builds {net_config.model_dump()}: "
                "use another out_dir or resume=false"
            )
        load_weights(net, payload["model"], where=str(ckpt_path))
        ema = payload["ema"]
        optimizer.load_state_dict(payload["optimizer"])
        gen.set_state(payload["rng"])
        start, losses, evals = payload["step"], list(payload["losses"]), list(payload["evals"])

    # -- loop -----------------------------------------------------------------------------------
    log = (out_dir / "log.jsonl").open("a")
    bar = _progress(config, start)
    for it in range(start, config.steps):
        for group in optimizer.param_groups:
            group["lr"] = get_lr(it, config)
        x1, labels = (t.to(device) for t in data.sample(config.batch_size, gen))
        x0 = torch.randn(x1.shape, generator=gen).to(device)
        if config.ot_pairing:
            x0 = ot_pair(x0, x1)
        extras: dict[str, Any] = {}
        if num_classes:
            drop = torch.rand(len(labels), generator=gen).to(device) < config.label_dropout
            extras["y"] = torch.where(drop, num_classes, labels)

        if config.objective == "cfm":
            t = torch.rand(len(x1), generator=gen).to(device)
            point = path.sample(x0, x1, t)
            rows = ((net(point.x_t, t, **extras) - point.dx_t) ** 2).reshape(len(x1), -1).mean(1)
            loss = rows.mean()
        else:
            a, b = _times(config, len(x1), gen).to(device), _times(config, len(x1), gen).to(device)
            s, t = torch.minimum(a, b), torch.maximum(a, b)
            instant = torch.rand(len(x1), generator=gen).to(device) >= config.jump_fraction
            point = path.sample(x0, x1, s)  # the known point sits at s, the jump goes to t
            if config.objective == "meanflow":
                t = torch.where(instant, s, t)
                rows = meanflow_loss(net, point.x_t, s, t, point.dx_t, **extras)
            else:
                m = s + torch.rand(len(x1), generator=gen).to(device) * (t - s)
                rows = splitmeanflow_loss(net, point.x_t, s, m, t, point.dx_t, instant, **extras)
            loss = adaptive_weight(rows, config.adaptive_power).mean()  # rows: the unweighted loss, logged

        loss.backward()
        if config.grad_clip > 0:
            nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        decay = min(config.ema_decay, (1 + it) / (10 + it))  # short runs: the EMA follows the weights early on
        with torch.no_grad():
            for k, v in net.state_dict().items():
                ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay) if v.is_floating_point() else ema[k].copy_(v)

        value = float(rows.detach().mean())  # the one CPU-GPU sync per step
        losses.append(value)
        bar.update(1)
        bar.set_postfix(loss=f"{value:.4f}")
        log.write(json.dumps({"step": it + 1, "loss": value, "lr": get_lr(it, config)}) + "\n")

        last = it + 1 == config.steps
        if (it + 1) % config.eval_every == 0 or last:
            evals.append(_evaluate(config, net_config, data, ema, out_dir, it + 1, device))
            log.write(json.dumps(evals[-1]) + "\n")
        if (it + 1) % config.checkpoint_every == 0 or last:
            save_checkpoint(
                ckpt_path,
                net,
                net_config,
                ema=ema,
                optimizer=optimizer.state_dict(),
                rng=gen.get_state(),
                step=it + 1,
                losses=losses,
                evals=evals,
                train_config=config.model_dump(),
            )
    bar.close()
    log.close()
    if losses:
        from .plots import plot_curves

        plot_curves(losses, evals, out_dir / "curves.png")
    return TrainResult(checkpoint=ckpt_path, step=max(start, config.steps), losses=losses, evals=evals)


def sample(
    net: nn.Module, net_config: NetConfig, n: int, *, steps: int, method: str = "euler", cfg_scale: float = 1.0,
    labels: Tensor | None = None, generator: torch.Generator | None = None,
) -> tuple[Tensor, int]:  # fmt: skip
    """n samples (and the NFE spent) from a trained network: one jump per step for average-velocity models."""
    device = next(net.parameters()).device
    x0 = torch.randn(n, *net_config.shape, generator=generator).to(device)
    extras: dict[str, Any] = {}
    if net_config.num_classes:
        extras["y"] = (
            labels if labels is not None else torch.randint(0, net_config.num_classes, (n,), generator=generator)
        )
    if net_config.kind == "average":
        out = AverageSampler(net).sample(x0, steps=steps, **extras)
    else:
        model: Any = net
        if net_config.num_classes and cfg_scale != 1.0:
            model = ClassifierFreeGuidance(net, cfg_scale, null_label=net_config.num_classes)
        out = ODESolver(model).sample(x0, method=method, steps=steps, **extras)
    return out.x, out.nfe


def _times(config: GenTrainConfig, n: int, gen: torch.Generator) -> Tensor:
    """n times in (0, 1): uniform, or logit-normal (MeanFlow's choice, denser in the middle)."""
    if config.time_sampler == "uniform":
        return torch.rand(n, generator=gen)
    return torch.sigmoid(config.time_mean + config.time_std * torch.randn(n, generator=gen))


def _evaluate(
    config: GenTrainConfig, net_config: NetConfig, data: Dataset, ema: dict[str, Tensor], out_dir: Path, step: int,
    device: torch.device,
) -> dict[str, float]:  # fmt: skip
    """Sample from the EMA weights, measure sliced W2 against fresh data, and draw them."""
    from .plots import plot_samples

    net = build_net(net_config).to(device)
    net.load_state_dict(ema)
    net.eval()
    steps = config.sample_steps or (1 if net_config.kind == "average" else 32)
    gen = torch.Generator().manual_seed(config.seed + 1)  # the same noise at every evaluation
    labels = None
    if net_config.num_classes:
        labels = torch.arange(config.eval_samples) % net_config.num_classes
    x, nfe = sample(net, net_config, config.eval_samples, steps=steps, method=config.sample_method,
                    cfg_scale=config.cfg_scale, labels=labels, generator=gen)  # fmt: skip
    reference, _ = data.sample(config.eval_samples, torch.Generator().manual_seed(config.seed + 2))
    plot_samples(x.cpu(), reference, out_dir / f"samples_{step:06d}.png", labels=labels)
    return {"step": float(step), "sliced_w2": sliced_w2(x.cpu(), reference), "nfe": float(nfe)}


def _progress(config: GenTrainConfig, start: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=config.steps, initial=start, disable=not config.progress, file=sys.stderr, desc=config.objective)


if __name__ == "__main__":
    args = sys.argv[1:]
    file = args.pop(0) if args and "=" not in args[0] else None
    result = train(load_config(file, args))
    print(json.dumps({"checkpoint": str(result.checkpoint), "step": result.step, "evals": result.evals}))
