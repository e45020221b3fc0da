"""Samplers and generative training steps on a GPU: one prepared script, under 8 minutes.

    python benchmarks/samplers_gpu.py                        # on a machine with CUDA
    python benchmarks/samplers_gpu.py --tiny --device cpu    # a small CPU run that checks the script itself

Without CUDA it stops at once with a message (exit 2) unless --device cpu is given. Any mode that
fails is printed and the others go on; the exit status is then 1, after the RESULT line.

A DiT-shaped network (patchify, adaLN-zero transformer blocks, two time inputs so the same
network serves flow matching and MeanFlow) with random weights on 32x32x3 images:

1. images/s at a fixed NFE (Euler, --nfe steps, batch --batch) through this package's ODESolver
   and device setting: float32, bfloat16 autocast ("cuda:bf16"), and bfloat16 + torch.compile
   ("cuda:bf16:compile"); the largest difference of each against float32 is printed.
2. one training step (forward, backward, AdamW) of plain flow matching against MeanFlow's step
   (one torch.func.jvp through the network; attention on the math SDPA backend, since fused
   attention kernels have no forward-mode derivative), float32 and bfloat16 autocast.

The last line is `RESULT device=... imgs_s_fp32=... imgs_s_bf16=... imgs_s_compile=... speedup_bf16=...
speedup_compile=... fm_step_ms=... meanflow_step_ms=... meanflow_vs_fm=...`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not another installed copy

from aiflows.generative.average import meanflow_loss  # noqa: E402
from aiflows.generative.device import DeviceSettings  # noqa: E402
from aiflows.generative.solvers import ODESolver  # noqa: E402


def time_embedding(t: Tensor, dim: int) -> Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = 1000.0 * t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


class Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(approximate="tanh"), nn.Linear(4 * width, width))
        self.ada = nn.Linear(width, 6 * width)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        shift1, scale1, gate1, shift2, scale2, gate2 = self.ada(F.silu(c))[:, None].chunk(6, dim=-1)
        h = self.norm1(x) * (1 + scale1) + shift1
        b, n, w = h.shape
        q, k, v = self.qkv(h).view(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, n, w)
        x = x + gate1 * self.proj(attn)
        return x + gate2 * self.mlp(self.norm2(x) * (1 + scale2) + shift2)


class DiT(nn.Module):
    """u(x, s, t) on (batch, 3, size, size) images; v(x, t) is u(x, t, t)."""

    def __init__(self, size: int = 32, patch: int = 2, width: int = 384, depth: int = 8, heads: int = 6) -> None:
        super().__init__()
        self.patch, self.size, self.width = patch, size, width
        self.embed = nn.Conv2d(3, width, patch, stride=patch)
        self.pos = nn.Parameter(torch.randn(1, (size // patch) ** 2, width) * 0.02)
        self.time = nn.Sequential(nn.Linear(2 * width, width), nn.SiLU(), nn.Linear(width, width))
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.out = nn.Linear(width, patch * patch * 3)

    def forward(self, x: Tensor, s: Tensor, t: Tensor | None = None) -> Tensor:
        t = s if t is None else t
        c = self.time(torch.cat([time_embedding(s, self.width), time_embedding(t - s, self.width)], dim=1)).to(x.dtype)
        h = self.embed(x).flatten(2).transpose(1, 2) + self.pos
        for block in self.blocks:
            h = block(h, c)
        p, g = self.patch, self.size // self.patch
        out = self.out(self.norm(h)).view(x.shape[0], g, g, p, p, 3)
        return out.permute(0, 5, 1, 3, 2, 4).reshape(x.shape)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()  # time the work, not the launch


def images_per_s(net: Any, settings: DeviceSettings, args: argparse.Namespace) -> tuple[float, Tensor]:
    model = settings.prepare(net)
    x0 = torch.randn(args.batch, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(settings.torch_device)
    with torch.no_grad():
        for _ in range(2):  # warm-up (and compilation)
            out = ODESolver(model).sample(x0, method="euler", steps=args.nfe)
        sync(settings.torch_device)
        best = math.inf
        for _ in range(args.repeat):
            start = time.perf_counter()
            out = ODESolver(model).sample(x0, method="euler", steps=args.nfe)
            sync(settings.torch_device)
            best = min(best, time.perf_counter() - start)
    return args.batch / best, out.x.float()


def train_step_ms(
    net: nn.Module, objective: str, dtype: torch.dtype, device: torch.device, args: argparse.Namespace
) -> float:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    x1 = torch.randn(args.train_batch, 3, 32, 32, device=device)

    def step() -> None:
        x0 = torch.randn_like(x1)
        s, t = torch.rand(len(x1), device=device), torch.rand(len(x1), device=device)
        s, t = torch.minimum(s, t), torch.maximum(s, t)
        x_s = s[:, None, None, None] * x1 + (1 - s[:, None, None, None]) * x0
        v = x1 - x0
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            if objective == "fm":
                loss = ((net(x_s, s) - v) ** 2).mean()
            else:
                with sdpa_kernel(SDPBackend.MATH):  # fused kernels have no JVP
                    loss = meanflow_loss(net, x_s, s, t, v).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for _ in range(2):
        step()
    sync(device)
    best = math.inf
    for _ in range(args.repeat):
        start = time.perf_counter()
        step()
        sync(device)
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a small network and batch: checks the script quickly")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda", help="cpu: check the script without a GPU")
    parser.add_argument("--batch", type=int, default=256, help="images per sampling batch")
    parser.add_argument("--train-batch", type=int, default=64, help="images per training step")
    parser.add_argument("--nfe", type=int, default=16, help="Euler steps per sample")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats (best taken)")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.exit(
            2,
            "samplers_gpu.py measures a CUDA device and this machine has none (torch.cuda.is_available() is False); "
            "run it on a GPU machine, or check the script here with --tiny --device cpu\n",
        )
    cuda = args.device == "cuda"
    if args.tiny:
        args.batch, args.train_batch, args.nfe, args.repeat = 8, 4, 2, 1
    device = torch.device(args.device)
    torch.manual_seed(0)
    width, depth = (64, 2) if args.tiny else (384, 8)
    net = DiT(width=width, depth=depth, heads=6 if width == 384 else 4).to(device).eval()
    params = sum(p.numel() for p in net.parameters()) / 1e6
    name = torch.cuda.get_device_name() if cuda else "cpu"
    print(f"device {name}; DiT {params:.1f}M parameters, 32x32x3, batch {args.batch}, Euler {args.nfe} NFE", flush=True)

    base = "cuda" if cuda else "cpu"
    rates: dict[str, float] = {}
    failed: list[str] = []
    ref = None
    for label, setting in (("fp32", base), ("bf16", f"{base}:bf16"), ("compile", f"{base}:bf16:compile")):
        if label == "compile" and not cuda:
            print(f"  {label:8} skipped on CPU (torch.compile's CPU backend needs a C++ toolchain and minutes)")
            rates[label] = math.nan
            continue
        start = time.perf_counter()
        try:
            rate, x = images_per_s(net, DeviceSettings.parse(setting), args)
        except Exception as exc:  # report and go on: one failing mode must not hide the others
            print(f"  {label:8} failed: {type(exc).__name__}: {exc}", flush=True)
            failed.append(label)
            rates[label] = math.nan
            continue
        ref = x if ref is None else ref
        rates[label] = rate
        diff = float((x - ref).abs().max())
        print(
            f"  {label:8} {rate:9.1f} images/s  (max |diff| vs fp32 {diff:.3f}; {time.perf_counter() - start:.0f} s)",
            flush=True,
        )

    steps: dict[str, float] = {}
    net.train()
    for dtype_name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        for objective in ("fm", "meanflow"):
            try:
                ms = train_step_ms(net, objective, dtype, device, args)
            except Exception as exc:
                print(f"  train {objective:8} {dtype_name}: failed: {type(exc).__name__}: {exc}", flush=True)
                failed.append(f"train {objective} {dtype_name}")
                ms = math.nan
            steps[f"{objective}_{dtype_name}"] = ms
            print(f"  train {objective:8} {dtype_name}: {ms:8.1f} ms/step (batch {args.train_batch})", flush=True)

    print(
        f"RESULT device={name.replace(' ', '_')} imgs_s_fp32={rates['fp32']:.1f} imgs_s_bf16={rates['bf16']:.1f} "
        f"imgs_s_compile={rates['compile']:.1f} speedup_bf16={rates['bf16'] / rates['fp32']:.2f} "
        f"speedup_compile={rates['compile'] / rates['fp32']:.2f} fm_step_ms={steps['fm_fp32']:.1f} "
        f"meanflow_step_ms={steps['meanflow_fp32']:.1f} meanflow_vs_fm={steps['meanflow_fp32'] / steps['fm_fp32']:.2f} "
        f"meanflow_vs_fm_bf16={steps['meanflow_bf16'] / steps['fm_bf16']:.2f}"
    )
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
