"""The reproduction: random policy, warm start and three Flow-GRPO arms on held-out kbqa questions, per seed.

    python -m training.flow_grpo.demo.run --out runs/demo-train      (what `make demo-train` runs)

Per seed: the KB and its splits are fixed first (held-out: unseen entities and an unseen composition),
a tiny planner is built and warm-started on a weak demonstrator's traces, then each arm trains a
copy of the warm start with the same batches. Every arm is evaluated greedy (temperature 0) and
sampled (the training temperature) on the held-out questions. Writes results.json, table.md,
curves.png and log.jsonl to the run folder and prints the table, with the wall and CPU time.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import resource
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .grpo import Credit, grpo_step, make_rows
from .policy import build_tiny_planner
from .report import Table, plot_curves, render_table, summarise
from .rollouts import rollout
from .task import split_questions, write_corpus
from .warm_start import demonstrations, supervised

__all__ = ["ARMS", "DemoConfig", "cpu_seconds", "main", "run_demo"]

ARMS: tuple[str, ...] = ("random", "warm_start", "flow_grpo", "shuffled_reward", "last_turn_reward")
_CREDIT: dict[str, Credit] = {"flow_grpo": "broadcast", "shuffled_reward": "shuffled", "last_turn_reward": "last_turn"}


class DemoConfig(BaseModel):
    """Sizes of the reproduction; the defaults are what `make demo-train` runs."""

    seeds: list[int] = [0, 1, 2]
    per_kind: int = 6  # training questions per kind (4 kinds)
    held_out_per_kind: int = 10  # held-out questions per kind: 4 kinds of unseen entities + the unseen composition
    hidden: int = 64
    layers: int = 2
    p_early: float = 0.65  # how often the demonstrator finishes one hop short
    demo_passes: int = 3
    sft_epochs: int = 20
    sft_lr: float = 3e-3
    steps: int = 16
    batch: int = 4  # queries per step
    group: int = 8  # G trajectories per query
    lr: float = 1e-3
    epochs: int = 1  # optimizer steps per batch of rollouts
    temperature: float = 1.0
    kl_coef: float = 0.001
    threads: int = 1  # torch threads: on a shared 2-core machine one thread is several times faster than two


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _eval(policy: Any, corpus: Path, questions: list[Any], temperature: float, seed: int) -> list[float]:
    """Outcomes of one trajectory per question (the same sampling seeds for every arm)."""
    return [r.reward for r in rollout(policy, corpus, questions, temperature=temperature, tag="eval", seed=seed)]


def run_seed(cfg: DemoConfig, seed: int, folder: Path, log: Any) -> dict[str, Any]:
    """Every arm on one seed: per-question outcomes on the held-out split, and training curves."""
    import torch

    from training.flow_grpo.policy import InProcessPolicy, load_policy

    torch.manual_seed(seed)
    kb, splits = split_questions(seed, cfg.per_kind, cfg.held_out_per_kind)
    held_out = splits["test_entity"] + splits["test_composition"]
    corpus = write_corpus(kb, folder / "data")
    model_dir = build_tiny_planner(folder / f"planner-{seed}", [kb], hidden=cfg.hidden, layers=cfg.layers, seed=seed)
    model, tok = load_policy(model_dir)
    model.eval()
    out: dict[str, Any] = {
        "seed": seed,
        "held_out": [q.id for q in held_out],
        "held_out_split": [q.split for q in held_out],
        "held_out_kind": [q.kind for q in held_out],
        "arms": {},
        "curves": {},
        "seconds": {},
    }
    clock = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out["seconds"][name] = round(now - clock, 2)
        clock = now

    def evaluate(arm: str) -> None:
        policy = InProcessPolicy(model, tok, max_new_tokens=16)
        out["arms"][arm] = {
            "greedy": _eval(policy, corpus, held_out, 0.0, seed),
            "sampled": _eval(policy, corpus, held_out, cfg.temperature, seed),
        }
        means = {k: sum(v) / len(v) for k, v in out["arms"][arm].items()}
        log.write(json.dumps({"seed": seed, "arm": arm, "eval": means}) + "\n")
        log.flush()

    evaluate("random")
    phase("random_eval")
    traces = demonstrations(corpus, splits["train"], p_early=cfg.p_early, passes=cfg.demo_passes, seed=seed)
    losses = supervised(model, tok, traces, epochs=cfg.sft_epochs, lr=cfg.sft_lr, batch=16, seed=seed)
    log.write(json.dumps({"seed": seed, "warm_start_loss": losses, "traces": len(traces)}) + "\n")
    phase("warm_start")
    evaluate("warm_start")
    phase("warm_start_eval")
    warm = copy.deepcopy(model.state_dict())
    reference = copy.deepcopy(model).eval().requires_grad_(False)
    for arm, credit in _CREDIT.items():
        model.load_state_dict(warm)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
        policy = InProcessPolicy(model, tok, max_new_tokens=16)
        order = random.Random(f"{seed}:batches")  # the same batches for every arm
        shuffle_rng = random.Random(f"{seed}:shuffle")
        curve = []
        for step in range(cfg.steps):
            started = time.perf_counter()
            batch = order.sample(splits["train"], cfg.batch)
            done = rollout(
                policy, corpus, batch, temperature=cfg.temperature, group=cfg.group, tag=f"s{step}", seed=seed
            )
            rolled = time.perf_counter()
            rows, flat = make_rows(done, credit, shuffle_rng)
            loss, clip, kl = grpo_step(
                model,
                reference,
                optimizer,
                rows,
                pad=tok.pad_token_id,
                temperature=cfg.temperature,
                kl_coef=cfg.kl_coef,
                epochs=cfg.epochs,
            )
            reward = sum(r.reward for r in done) / len(done)
            seconds = time.perf_counter() - started
            row = {
                "seed": seed,
                "arm": arm,
                "step": step,
                "reward": reward,
                "zero_variance": flat,
                "rows": len(rows),
                "loss": loss,
                "clip_fraction": clip,
                "kl": kl,
                "mean_turns": sum(r.turns for r in done) / len(done),
                "invalid_rate": sum(r.invalid for r in done) / max(1, sum(r.turns for r in done)),
                "failed": sum(1 for r in done if r.failed),
                "rows_per_s": sum(len(r.calls) for r in done) / seconds,
                "rollout_s": round(rolled - started, 3),
                "update_s": round(seconds - (rolled - started), 3),
            }
            log.write(json.dumps(row) + "\n")
            log.flush()
            curve.append(reward)
        out["curves"][arm] = curve
        phase(f"{arm}_train")
        evaluate(arm)
        phase(f"{arm}_eval")
    return out


def run_demo(cfg: DemoConfig, folder: Path) -> Table:
    """Run every seed, write the report files into `folder` and return the table."""
    import torch

    torch.set_num_threads(cfg.threads)
    folder.mkdir(parents=True, exist_ok=True)
    started, cpu_start = time.perf_counter(), cpu_seconds()
    seeds = []
    with (folder / "log.jsonl").open("w") as log:
        for seed in cfg.seeds:
            seeds.append(run_seed(cfg, seed, folder, log))
            print(
                f"seed {seed} done after {time.perf_counter() - started:.0f} s (CPU {cpu_seconds() - cpu_start:.0f} s)",
                flush=True,
            )
    table = summarise(seeds, ARMS)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_start
    (folder / "results.json").write_text(
        json.dumps(
            {
                "config": cfg.model_dump(),
                "seeds": seeds,
                "table": table.model_dump(),
                "wall_s": wall,
                "cpu_s": cpu,
            },
            indent=1,
        )
    )
    text = render_table(table, cfg, wall, cpu)
    (folder / "table.md").write_text(text)
    plot_curves(seeds, folder / "curves.png")
    print(text)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Flow-GRPO reproduction on kbqa (CPU).")
    parser.add_argument("--out", default="runs/demo-train")
    parser.add_argument("--seeds", type=int, nargs="+")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--per-kind", type=int)
    parser.add_argument("--held-out-per-kind", type=int)
    parser.add_argument("--lr", type=float)
    parser.add_argument("--p-early", type=float, help="how often the demonstrator finishes one hop short")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    given = {
        "seeds": args.seeds,
        "steps": args.steps,
        "per_kind": args.per_kind,
        "held_out_per_kind": args.held_out_per_kind,
        "lr": args.lr,
        "p_early": args.p_early,
        "threads": args.threads,
    }
    cfg = DemoConfig(**{k: v for k, v in given.items() if v is not None})
    run_demo(cfg, Path(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
