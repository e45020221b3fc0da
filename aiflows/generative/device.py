"""Where and in what precision a sampler runs, chosen by one setting.

    "auto"               CUDA when present (bfloat16 autocast), else CPU float32
    "cpu"                CPU, float32
    "cuda"               CUDA, float32
    "cuda:bf16"          CUDA, bfloat16 autocast (weights and the ODE state stay float32)
    "cuda:bf16:compile"  and `torch.compile` on the network
    "cuda:bf16:graphs"   and `torch.compile(mode="reduce-overhead")`, which captures CUDA graphs

The string comes from a flow's config or `$AIFLOWS_GEN_DEVICE`; `DeviceSettings.parse` checks it.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict
from torch import Tensor, nn

from ..exceptions import ConfigError

__all__ = ["DeviceSettings", "OnDevice"]

_DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16, "bfloat16": torch.bfloat16}


class DeviceSettings(BaseModel):
    """A parsed device setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: str = "cpu"  # "cpu", "cuda", "cuda:1", ...
    autocast: Literal["float32", "bfloat16"] = "float32"  # precision of the network's matmuls
    compile: Literal["off", "default", "reduce-overhead"] = "off"  # torch.compile mode ("reduce-overhead": CUDA graphs)

    @classmethod
    def parse(cls, setting: str | None = None) -> DeviceSettings:
        """Read a setting string (`$AIFLOWS_GEN_DEVICE`, then "auto", when None)."""
        text = (setting or os.environ.get("AIFLOWS_GEN_DEVICE") or "auto").strip().lower()
        if text == "auto":
            if torch.cuda.is_available():
                return cls(device="cuda", autocast="bfloat16")
            return cls()
        head, _, rest = text.partition(":")
        parts = rest.split(":") if rest else []
        device = head
        if parts and parts[0].isdigit():
            device = f"{head}:{parts.pop(0)}"
        if head not in ("cpu", "cuda"):
            raise ConfigError(f"device setting '{text}': expected auto, cpu or cuda[:N][:bf16][:compile|:graphs]")
        autocast: Literal["float32", "bfloat16"] = "float32"
        mode: Literal["off", "default", "reduce-overhead"] = "off"
        for part in parts:
            if part in _DTYPES:
                autocast = "bfloat16" if _DTYPES[part] is torch.bfloat16 else "float32"
            elif part == "compile":
                mode = "default"
            elif part == "graphs":
                mode = "reduce-overhead"
            else:
                raise ConfigError(f"device setting '{text}': unknown part '{part}' (bf16, fp32, compile or graphs)")
        if head == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device setting '{text}': this machine has no CUDA device (use auto or cpu)")
        return cls(device=device, autocast=autocast, compile=mode)

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def prepare(self, net: nn.Module) -> OnDevice:
        """Move `net` here, in eval mode, compiled if asked, wrapped to run in this precision."""
        net = net.to(self.torch_device).eval()
        runner: Any = net
        if self.compile != "off":
            runner = torch.compile(net, mode=None if self.compile == "default" else self.compile)
        return OnDevice(runner, self)


class OnDevice:
    """A network called under the setting's autocast; its output comes back in the input's dtype."""

    def __init__(self, net: Any, settings: DeviceSettings) -> None:
        self.net = net
        self.settings = settings

    def __call__(self, *args: Tensor, **kwargs: Any) -> Tensor:
        x = args[0]
        dtype = torch.bfloat16 if self.settings.autocast == "bfloat16" else torch.float32
        device_type = self.settings.torch_device.type
        with torch.autocast(device_type=device_type, dtype=dtype, enabled=self.settings.autocast != "float32"):
            out: Tensor = self.net(*args, **kwargs)
        return out.to(x.dtype)
