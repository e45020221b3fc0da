"""Sampler quality against NFE, and speed against torchdiffeq and flow_matching, side by side in one run.

    pip install -e ".[gen]" && pip install --no-deps flow_matching torchcfm   # the peers (benchmark only)
    python benchmarks/samplers.py                              # all four datasets, 3000 training steps each
    python benchmarks/samplers.py --datasets moons --steps 3000 --seeds 5

1. Trains (or reuses, from --cache) a flow-matching, a MeanFlow and a SplitMeanFlow model per dataset
   with `training.generative` (same network, same budget); on the first dataset also a flow-matching
   model trained with torchcfm's ConditionalFlowMatcher as the peer's loss.
2. Quality against NFE in {1, 2, 4, 8, 16, 32, 64}: Euler, midpoint, Heun, RK4 (NFE / stages steps),
   dopri5 (tolerances 1e-2 .. 1e-5, its own NFE), MeanFlow and SplitMeanFlow (NFE jumps). Sliced W2 and
   RBF MMD over --seeds seeds, exact W2 (POT) on the first seed, each with its data-against-data floor.
   A plot per dataset (sliced W2 against NFE) goes to --out.
3. Solvers against torchdiffeq (euler, midpoint, rk4) and flow_matching's ODESolver (euler, midpoint)
   on the same network, 64 steps, batch --batch: largest difference and time ratio (theirs / ours; the
   median of 9 rounds' ratios, each round timing both in turns). torchdiffeq's "rk4" is Kutta's 3/8
   rule, so it runs against our "rk4_38" (our "rk4" is the classic rule, which torchdiffeq does not
   offer as a fixed-grid method).
4. The SamplerFlow tool call (in process, artifacts written to a folder) against the same 64-step
   Euler batch sampled directly in a worker thread (where the flow samples), in turns: the overhead the
   flow adds (median of 9 rounds' ratios).

The last line is `RESULT meanflow_1nfe_sw2=... euler_64_sw2=... ratio_meanflow_vs_euler64=...
worst_ratio_meanflow_vs_euler64=... speed_vs_torchdiffeq=... flow_overhead=...` (first dataset, and the
dataset where MeanFlow's 1-step ratio is highest; speed the geometric mean over methods).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not another installed copy

from aiflows.generative.average import AverageSampler  # noqa: E402
from aiflows.generative.metrics import exact_w2, mmd_rbf, sliced_w2  # noqa: E402
from aiflows.generative.nets import NetConfig, build_net, load_checkpoint, save_checkpoint  # noqa: E402
from aiflows.generative.solvers import FIXED_GRID, ODESolver  # noqa: E402
from training.generative.config import GenTrainConfig  # noqa: E402
from training.generative.data import dataset  # noqa: E402
from training.generative.train import get_lr, train  # noqa: E402

NFES = (1, 2, 4, 8, 16, 32, 64)
SAME_METHOD = {"rk4": "rk4_38"}  # a peer's method name -> ours for the same rule
# MeanFlow's recipe over the shared one, per dataset. On the 64-dimensional digits the 1-step jump
# from pure noise needs intervals that start near t = 0 and end near t = 1, which the paper's
# logit-normal times (sigmoid(N(-0.4, 1)) with t = 1 noise there) rarely draw: a wider logit-normal
# (std 2, mean 0.8 here) with half the rows jumping and the adaptive weight p = 1 trains them. (The
# paper's own times: 1 NFE 0.147, 2 NFE 0.056 sliced W2; this recipe: 0.057 and 0.065, 3000 steps.)
# On the 2-D toys the plain recipe (uniform times, a quarter jumping) does better in one step.
MEANFLOW: dict[str, dict[str, Any]] = {
    "digits": {
        "time_sampler": "logit_normal", "time_mean": 0.8, "time_std": 2.0, "jump_fraction": 0.5,
        "adaptive_power": 1.0,
    },
}  # fmt: skip
TOLERANCES = (1e-2, 1e-3, 1e-4, 1e-5)


def train_config(name: str, objective: str, args: argparse.Namespace) -> GenTrainConfig:
    """One recipe for all three objectives (same network, same budget), with its folder under --cache."""
    config = GenTrainConfig(
        data=name, objective=objective, steps=args.steps, hidden=args.hidden, depth=4,
        batch_size=256, lr=2e-3, warmup=100, eval_every=args.steps, eval_samples=1000,
        checkpoint_every=max(1, args.steps // 4), progress=False, class_conditional=False,
        **(MEANFLOW.get(name, {}) if objective == "meanflow" else {}),
    )  # fmt: skip
    return config.model_copy(update={"out_dir": str(cached_run(args.cache, config))})


def train_models(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Our three objectives on one dataset (reused from --cache when trained with the same config)."""
    nets = {}
    for objective in ("cfm", "meanflow", "splitmeanflow"):
        config = train_config(name, objective, args)
        ckpt = Path(config.out_dir) / "ckpt.pt"
        cached = ckpt.is_file() and torch.load(ckpt, weights_only=True)["step"] >= config.steps
        start = time.perf_counter()
        train(config)
        took = "cached" if cached else f"{time.perf_counter() - start:.0f} s"
        print(f"  {name}/{objective}: {args.steps} steps ({took}) in {config.out_dir}", flush=True)
        nets[objective] = load_checkpoint(ckpt).net
    return nets


def cached_run(cache: str, config: GenTrainConfig) -> Path:
    """The run folder of `config` under the cache: named by a hash of every field that changes the
    weights, so a changed recipe trains anew and an unchanged one is reused (or resumed)."""
    fields = config.model_dump(
        exclude={"out_dir", "progress", "resume", "eval_every", "eval_samples", "checkpoint_every"}
    )
    key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache) / f"{config.data}-{config.objective}-{key}"


def train_torchcfm(name: str, args: argparse.Namespace) -> torch.nn.Module | None:
    """The same network and budget trained with torchcfm's ConditionalFlowMatcher (its loss and path)."""
    try:
        from torchcfm.conditional_flow_matching import ConditionalFlowMatcher
    except ImportError:
        print("  torchcfm not installed: its row is skipped (pip install --no-deps torchcfm)")
        return None
    path = Path(args.cache) / f"{name}-torchcfm-{args.steps}-{args.hidden}.pt"
    data = dataset(name)
    net_config = NetConfig(kind="velocity", shape=list(data.shape), hidden=args.hidden, depth=4)
    if path.is_file():
        return load_checkpoint(path, expect=net_config).net
    torch.manual_seed(0)
    net = build_net(net_config)
    ema = {k: v.detach().clone() for k, v in net.state_dict().items()}
    optimizer = torch.optim.AdamW(net.parameters(), lr=2e-3)
    matcher = ConditionalFlowMatcher(sigma=0.0)
    gen = torch.Generator().manual_seed(0)
    config = GenTrainConfig(steps=args.steps, lr=2e-3, warmup=100)
    for it in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = get_lr(it, config)
        x1, _ = data.sample(256, gen)
        x0 = torch.randn(x1.shape, generator=gen)
        t, xt, ut = matcher.sample_location_and_conditional_flow(x0, x1)  # torchcfm: t = 0 noise as here
        loss = ((net(xt, t) - ut) ** 2).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        decay = min(0.999, (1 + it) / (10 + it))
        with torch.no_grad():
            for k, v in net.state_dict().items():
                ema[k].mul_(decay).add_(v, alpha=1 - decay)
    save_checkpoint(path, net, net_config, ema=ema)
    return load_checkpoint(path).net


def sample_with(kind: str, net: Any, nfe: int, x0: torch.Tensor, tol: float = 0.0) -> tuple[torch.Tensor, int] | None:
    if kind in FIXED_GRID:
        stages = FIXED_GRID[kind][1]
        if nfe % stages:
            return None
        out = ODESolver(net).sample(x0, method=kind, steps=nfe // stages)
    elif kind == "dopri5":
        out = ODESolver(net).sample(x0, method="dopri5", atol=tol, rtol=tol)
    else:
        out = AverageSampler(net).sample(x0, steps=nfe)
    return out.x, out.nfe


def quality(name: str, nets: dict[str, Any], args: argparse.Namespace) -> list[dict[str, Any]]:
    data = dataset(name)
    rows: list[dict[str, Any]] = []
    refs = [data.sample(args.points, torch.Generator().manual_seed(1000 + s))[0] for s in range(args.seeds)]
    other = [data.sample(args.points, torch.Generator().manual_seed(2000 + s))[0] for s in range(args.seeds)]
    floor = {
        "sliced_w2": statistics.mean(sliced_w2(a, b, seed=i) for i, (a, b) in enumerate(zip(refs, other, strict=True))),
        "mmd": statistics.mean(mmd_rbf(a, b) for a, b in zip(refs, other, strict=True)),
        "w2": exact_w2(refs[0], other[0]),
    }
    rows.append({"dataset": name, "method": "data-vs-data", "nfe": 0, **floor})
    print(
        f"  {name:12} data against data: sliced W2 {floor['sliced_w2']:.4f}  MMD {floor['mmd']:.5f}  W2 {floor['w2']:.4f}"
    )
    with (Path(args.out) / "samplers.rows.jsonl").open("a") as partial:
        partial.write(json.dumps(rows[-1]) + "\n")
    plans: list[tuple[str, str, int, float]] = []
    for method in FIXED_GRID:
        plans += [(method, "cfm", nfe, 0.0) for nfe in NFES]
    plans += [("dopri5", "cfm", 0, tol) for tol in TOLERANCES]
    plans += [("meanflow", "meanflow", nfe, 0.0) for nfe in NFES]
    plans += [("splitmeanflow", "splitmeanflow", nfe, 0.0) for nfe in NFES]
    if "torchcfm" in nets:
        plans += [("euler", "torchcfm", nfe, 0.0) for nfe in (1, 4, 16, 64)]
    headline = {("euler", "cfm", 64), ("meanflow", "meanflow", 1), ("splitmeanflow", "splitmeanflow", 1)}
    plans.sort(key=lambda plan: plan[:3] not in headline)  # the RESULT figures first, then the curves
    for method, model, nfe, tol in plans:
        sw2, mmd, used, w2 = [], [], 0, math.nan
        for s in range(args.seeds):
            x0 = torch.randn(args.points, *data.shape, generator=torch.Generator().manual_seed(s))
            result = sample_with(
                method if model != "meanflow" and model != "splitmeanflow" else "jump", nets[model], nfe, x0, tol
            )
            if result is None:
                break
            x, used = result
            sw2.append(sliced_w2(x, refs[s], seed=s))
            mmd.append(mmd_rbf(x, refs[s]))
            if s == 0:
                w2 = exact_w2(x, refs[0])
        if not sw2:
            continue
        label = method if model in ("cfm", "meanflow", "splitmeanflow") else f"{method} ({model})"
        row = {"dataset": name, "method": label, "nfe": used, "tol": tol or None, "sliced_w2": statistics.mean(sw2),
               "sliced_w2_sd": statistics.stdev(sw2) if len(sw2) > 1 else 0.0, "mmd": statistics.mean(mmd), "w2": w2}  # fmt: skip
        rows.append(row)
        with (Path(args.out) / "samplers.rows.jsonl").open("a") as partial:  # kept if the run is cut short
            partial.write(json.dumps(row) + "\n")
        print(f"  {name:12} {label:22} nfe {used:4d}  sliced W2 {row['sliced_w2']:.4f} ± {row['sliced_w2_sd']:.4f}  "
              f"MMD {row['mmd']:.5f}  W2 {w2:.4f}", flush=True)  # fmt: skip
    return rows


def in_turns(ours: Any, theirs: Any, repeat: int = 9) -> tuple[float, float, float]:
    """Median times of two functions timed in turns (one of each per round, the first alternating), and
    the median of the rounds' ratios theirs / ours: load on a shared machine falls on both alike."""
    kept: list[tuple[float, float]] = []
    for i in range(repeat):
        pair = {}
        for name, fn in (("ours", ours), ("theirs", theirs))[:: 1 if i % 2 == 0 else -1]:
            start = time.perf_counter()
            fn()
            pair[name] = time.perf_counter() - start
        kept.append((pair["ours"], pair["theirs"]))
    return (
        statistics.median(a for a, _ in kept),
        statistics.median(b for _, b in kept),
        statistics.median(b / a for a, b in kept),
    )


def against_peers(net: Any, dim: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    from torchdiffeq import odeint

    x0 = torch.randn(args.batch, dim, generator=torch.Generator().manual_seed(0))
    grid = torch.linspace(0, 1, 65)
    rows = []

    def field(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return net(x, t.reshape(1).expand(x.shape[0]))

    peers: list[tuple[str, str, Any]] = []
    for method in ("euler", "midpoint", "rk4"):
        peers.append(
            (
                "torchdiffeq",
                method,
                lambda m=method: odeint(field, x0, grid[[0, -1]], method=m, options={"step_size": 1 / 64})[-1],
            )
        )
    try:
        from flow_matching.solver import ODESolver as FMSolver
        from flow_matching.utils import ModelWrapper

        class Wrapped(ModelWrapper):
            def forward(self, x: torch.Tensor, t: torch.Tensor, **extras: Any) -> torch.Tensor:
                return net(x, t.reshape(1).expand(x.shape[0]))

        fm = FMSolver(velocity_model=Wrapped(net))
        for method in ("euler", "midpoint"):
            peers.append(
                (
                    "flow_matching",
                    method,
                    lambda m=method: fm.sample(x_init=x0, step_size=1 / 64, method=m, time_grid=grid[[0, -1]]),
                )
            )
    except ImportError:
        print("  flow_matching not installed: its rows are skipped (pip install --no-deps flow_matching)")
    with torch.no_grad():
        for peer, method, run in peers:
            mine = SAME_METHOD.get(method, method)
            ours = ODESolver(net).sample(x0, method=mine, steps=64)
            theirs = run()
            t_ours, t_theirs, ratio = in_turns(lambda m=mine: ODESolver(net).sample(x0, method=m, steps=64), run)
            row = {"peer": peer, "method": method, "ours": mine, "max_abs_diff": float((ours.x - theirs).abs().max()),
                   "ours_s": t_ours, "theirs_s": t_theirs, "speed_ratio": ratio}  # fmt: skip
            rows.append(row)
            print(f"  {peer:13} {method:9} max |diff| {row['max_abs_diff']:.2e}  ours {t_ours * 1e3:7.1f} ms  "
                  f"theirs {t_theirs * 1e3:7.1f} ms  ratio {row['speed_ratio']:.2f}", flush=True)  # fmt: skip
    return rows


def flow_overhead(checkpoint: Path, args: argparse.Namespace) -> dict[str, float]:
    """SamplerFlow's wall time for a 64-step Euler batch against sampling that batch directly."""
    from aiflows import MemoryStore, Runtime
    from flows_hub.generative.flow import SamplerFlow

    request = {"model": "bench", "num_samples": args.batch, "solver": "euler", "steps": 64}
    with tempfile.TemporaryDirectory() as store:
        config = {"models": {"bench": str(checkpoint)}, "artifacts": store, "device": "cpu"}
        flow = SamplerFlow(name="sampler", config=config)
        net = load_checkpoint(checkpoint).net.eval()  # as the flow's model cache holds it
        x0 = torch.randn(
            args.batch, *load_checkpoint(checkpoint).config.shape, generator=torch.Generator().manual_seed(0)
        )

        def direct() -> None:
            with torch.no_grad():
                ODESolver(net).sample(x0, method="euler", steps=64)

        async def calls() -> tuple[list[float], list[float]]:
            async with Runtime(store=MemoryStore()) as rt:
                (await rt.run(flow, request)).unwrap()  # loads the model: kept warm afterwards
                flow_times: list[float] = []
                direct_times: list[float] = []
                for i in range(9):  # in turns, the first alternating, so load falls on both alike
                    for which in ("flow", "direct")[:: 1 if i % 2 == 0 else -1]:
                        start = time.perf_counter()
                        if which == "flow":
                            (await rt.run(flow, request)).unwrap()
                            flow_times.append(time.perf_counter() - start)
                        else:  # in a worker thread too, as the flow's handler samples
                            await asyncio.to_thread(direct)
                            direct_times.append(time.perf_counter() - start)
                return flow_times, direct_times

        flow_times, direct_times = asyncio.run(calls())
    flow_s, direct_s = statistics.median(flow_times), statistics.median(direct_times)
    ratio = statistics.median(a / b for a, b in zip(flow_times, direct_times, strict=True))
    result = {"flow_s": flow_s, "direct_s": direct_s, "overhead": ratio - 1}
    print(f"  SamplerFlow call {flow_s * 1e3:.1f} ms, direct sampling {direct_s * 1e3:.1f} ms: "
          f"overhead {result['overhead'] * 100:.1f}%", flush=True)  # fmt: skip
    return result


def plot(rows: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({r["dataset"] for r in rows})
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        mine = [r for r in rows if r["dataset"] == name]
        for method in dict.fromkeys(r["method"] for r in mine if r["nfe"]):
            pts = sorted((r["nfe"], r["sliced_w2"]) for r in mine if r["method"] == method)
            ax.plot(*zip(*pts, strict=True), "o-", ms=3, label=method)
        ax.axhline(
            [r["sliced_w2"] for r in mine if r["method"] == "data-vs-data"][0], color="k", ls="--", label="data vs data"
        )
        ax.set(xscale="log", yscale="log", xlabel="NFE", ylabel="sliced W2", title=name)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", default="moons,8gaussians,checkerboard,digits", help="comma-separated; the first heads RESULT"
    )
    parser.add_argument("--steps", type=int, default=3000, help="training steps per model")
    parser.add_argument("--hidden", type=int, default=256, help="network width")
    parser.add_argument("--seeds", type=int, default=5, help="sampling seeds per point of the curves")
    parser.add_argument("--points", type=int, default=2000, help="samples per seed (exact W2 on this many)")
    parser.add_argument("--batch", type=int, default=1024, help="batch of the speed and overhead measurements")
    parser.add_argument(
        "--cache",
        default=str(Path(os.environ.get("AIFLOWS_HOME") or Path.home() / ".aiflows") / "bench-samplers"),
        help="trained models, one folder per training config, reused across runs",
    )
    parser.add_argument("--out", default="benchmarks/out", help="plot and JSON go here")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for everything (on a busy machine two OpenMP threads spin against other work)",
    )
    parser.add_argument(
        "--speed-only", action="store_true", help="reuse --out's quality table; measure only speed and overhead"
    )
    parser.add_argument(
        "--quality-only", action="store_true", help="only train and measure quality (write --out's table and plot)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = args.datasets.split(",")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    if args.speed_only:
        rows = json.loads((out / "samplers.json").read_text())["quality"]
    for i, name in enumerate([] if args.speed_only else names):
        print(f"{name}:", flush=True)
        nets = train_models(name, args)
        if i == 0 and (peer := train_torchcfm(name, args)) is not None:
            nets["torchcfm"] = peer
        rows += quality(name, nets, args)
    if args.quality_only:
        plot(rows, out / "samplers.png")
        (out / "samplers.json").write_text(json.dumps({"quality": rows}, indent=1))
        print(f"plot: {out / 'samplers.png'}; table: {out / 'samplers.json'}")
        return
    print("solvers against their peers (first dataset's flow-matching network):", flush=True)
    first = names[0]
    first_ckpt = Path(train_config(first, "cfm", args).out_dir) / "ckpt.pt"
    net = load_checkpoint(first_ckpt).net
    peers = against_peers(net, math.prod(dataset(first).shape), args) if dataset(first).shape == (2,) else []
    overhead = flow_overhead(first_ckpt, args)
    plot(rows, out / "samplers.png")
    (out / "samplers.json").write_text(json.dumps({"quality": rows, "peers": peers, "flow": overhead}, indent=1))

    def sw2(method: str, nfe: int, name: str = first) -> float:
        return next(r["sliced_w2"] for r in rows if r["dataset"] == name and r["method"] == method and r["nfe"] == nfe)

    mf, smf, euler = sw2("meanflow", 1), sw2("splitmeanflow", 1), sw2("euler", 64)
    measured = [name for name in names if any(r["dataset"] == name for r in rows)]
    worst = max(measured, key=lambda name: sw2("meanflow", 1, name) / sw2("euler", 64, name))
    tdq = [r for r in peers if r["peer"] == "torchdiffeq"]
    speed = math.exp(statistics.mean(math.log(r["speed_ratio"]) for r in tdq)) if tdq else math.nan
    match = max((r["max_abs_diff"] for r in tdq), default=math.nan)
    per_method = " ".join(f"speed_{r['method']}={r['speed_ratio']:.2f}" for r in tdq)
    floor = next(r["sliced_w2"] for r in rows if r["dataset"] == first and r["method"] == "data-vs-data")
    print(f"plot: {out / 'samplers.png'}; table: {out / 'samplers.json'}")
    print(
        f"RESULT dataset={first} meanflow_1nfe_sw2={mf:.4f} splitmeanflow_1nfe_sw2={smf:.4f} euler_64_sw2={euler:.4f} "
        f"floor_sw2={floor:.4f} ratio_meanflow_vs_euler64={mf / euler:.2f} worst_dataset={worst} "
        f"worst_ratio_meanflow_vs_euler64={sw2('meanflow', 1, worst) / sw2('euler', 64, worst):.2f} "
        f"speed_vs_torchdiffeq={speed:.2f} "
        f"{per_method} torchdiffeq_max_diff={match:.1e} flow_overhead={overhead['overhead']:.3f}"
    )


if __name__ == "__main__":
    main()
