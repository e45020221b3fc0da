"""Small networks for flows on toys and 8x8 digits, and checkpoints that say what they hold.

`NetConfig` describes a network completely (kind, sample shape, width, classes); a checkpoint stores
it next to the weights, so `load_checkpoint` rebuilds the right network or says why it cannot.

    net = build_net(NetConfig(kind="velocity", shape=[2], num_classes=8))
    v = net(torch.randn(16, 2), torch.rand(16), y=torch.randint(0, 8, (16,)))
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from torch import Tensor, nn

from .errors import CheckpointMismatch, UnknownModel

__all__ = [
    "CHECKPOINT_FORMAT",
    "AverageVelocityMLP",
    "LoadedCheckpoint",
    "NetConfig",
    "VelocityMLP",
    "build_net",
    "load_checkpoint",
    "save_checkpoint",
]

CHECKPOINT_FORMAT = "aiflows.generative.checkpoint/1"


class NetConfig(BaseModel):
    """Everything needed to rebuild a network."""

    model_config = ConfigDict(extra="forbid")

    arch: Literal["mlp"] = "mlp"  # the only architecture here: an MLP over the flattened sample
    kind: Literal["velocity", "average"] = "velocity"  # v(x, t) or u(x, s, t)
    shape: list[int] = Field(default_factory=lambda: [2])  # one sample's shape, e.g. [2] or [1, 8, 8]
    hidden: int = 256  # width of each hidden layer
    depth: int = 4  # hidden layers
    time_features: int = 32  # sinusoidal features per time input
    num_classes: int = 0  # 0: unconditional; else labels 0..n-1, and n means "no label" (for guidance)


def _time_features(t: Tensor, n: int) -> Tensor:
    half = n // 2
    # frequencies from 1 to 20 radians per unit time: smooth in time, so that d u / d s (MeanFlow's JVP) stays small
    freqs = torch.exp(torch.linspace(0.0, math.log(20.0), half, device=t.device, dtype=t.dtype))
    angles = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles), t[:, None]], dim=1)


class _MLP(nn.Module):
    def __init__(self, config: NetConfig, times: int) -> None:
        super().__init__()
        self.config = config
        self.dim = math.prod(config.shape)
        width = self.dim + times * (2 * (config.time_features // 2) + 1)
        self.label = nn.Embedding(config.num_classes + 1, config.hidden) if config.num_classes else None
        layers: list[nn.Module] = [nn.Linear(width, config.hidden), nn.SiLU()]
        for _ in range(config.depth - 1):
            layers += [nn.Linear(config.hidden, config.hidden), nn.SiLU()]
        self.body = nn.Sequential(*layers[:2])
        self.rest = nn.Sequential(*layers[2:])
        self.out = nn.Linear(config.hidden, self.dim)

    def _run(self, x: Tensor, times: list[Tensor], y: Tensor | None) -> Tensor:
        batch = x.shape[0]
        expected = (batch, *self.config.shape)
        if tuple(x.shape) != expected:
            raise ValueError(f"input shape {tuple(x.shape)} does not fit this network's sample shape {expected}")
        feats = [_time_features(t.to(x.dtype).expand(batch), self.config.time_features) for t in times]
        h = self.body(torch.cat([x.reshape(batch, -1), *feats], dim=1))
        if self.label is not None:
            labels = y if y is not None else torch.full((batch,), self.config.num_classes, device=x.device)
            h = h + self.label(labels.long())
        out: Tensor = self.out(self.rest(h))
        return out.reshape(x.shape)


class VelocityMLP(_MLP):
    """v(x, t, y=None): a velocity model (t = 0 noise, t = 1 data)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__(config, times=1)

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        return self._run(x, [t], y)


class AverageVelocityMLP(_MLP):
    """u(x, s, t, y=None): an average-velocity model; it sees s and the gap t - s (as MeanFlow does)."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__(config, times=2)

    def forward(self, x: Tensor, s: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        return self._run(x, [s, t - s], y)


def build_net(config: NetConfig) -> nn.Module:
    """The network a config describes, randomly initialised."""
    return VelocityMLP(config) if config.kind == "velocity" else AverageVelocityMLP(config)


def save_checkpoint(path: str | Path, net: nn.Module, config: NetConfig, **extra: Any) -> Path:
    """Write weights, their `NetConfig` and anything else (optimizer, step, EMA, training config) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CHECKPOINT_FORMAT, "net": config.model_dump(), "model": net.state_dict(), **extra}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # a crash mid-write leaves the previous checkpoint whole
    return path


class LoadedCheckpoint:
    """A network rebuilt from a checkpoint (EMA weights when present and asked for), and the raw payload."""

    def __init__(self, net: nn.Module, config: NetConfig, payload: dict[str, Any]) -> None:
        self.net = net
        self.config = config
        self.payload = payload


def load_checkpoint(
    path: str | Path, *, use_ema: bool = True, expect: NetConfig | None = None, map_location: str = "cpu"
) -> LoadedCheckpoint:
    """Rebuild the network a checkpoint holds.

    Raises:
        UnknownModel: no file there, or not a checkpoint of this package.
        CheckpointMismatch: written for another architecture (or for another config than `expect`),
            or its weights do not fit the network its config describes.
    """
    path = Path(path)
    if not path.is_file():
        raise UnknownModel(str(path), "no such checkpoint file")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:
        raise UnknownModel(str(path), f"not a readable torch checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise UnknownModel(str(path), f"not an aiflows generative checkpoint (format {CHECKPOINT_FORMAT} expected)")
    try:
        config = NetConfig.model_validate(payload["net"])
    except ValidationError as exc:
        raise CheckpointMismatch(f"{path}: its network config is not one this version builds: {exc}") from None
    if expect is not None and config != expect:
        diff = {k: (v, getattr(config, k)) for k, v in expect.model_dump().items() if getattr(config, k) != v}
        raise CheckpointMismatch(f"{path}: written for another network; differs in {diff} (expected, found)")
    net = build_net(config)
    state: dict[str, Tensor] = payload["ema"] if use_ema and payload.get("ema") else payload["model"]
    load_weights(net, state, where=str(path))
    net.eval()
    return LoadedCheckpoint(net, config, payload)


def load_weights(net: nn.Module, state: dict[str, Tensor], *, where: str) -> None:
    """`net.load_state_dict(state)`, failing with `CheckpointMismatch` that names the keys and shapes that differ."""
    own = net.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or shapes:
        raise CheckpointMismatch(
            f"{where}: weights do not fit {type(net).__name__}: missing {missing[:5]}, unexpected {unexpected[:5]}, "
            f"shape (checkpoint vs network) {shapes[:5]}"
        )
    net.load_state_dict(state)
