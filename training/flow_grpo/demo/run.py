"""The reproduction: random policy, warm start and three Flow-GRPO arms on held-out kbqa questions, per seed.

    python -m training.flow_grpo.demo.run --out runs/demo-train      (what `make demo-train` runs)

Per seed: the KB and its splits are fixed first (held-out: unseen entities and an unseen composition),
a tiny planner is built and warm-started on a weak demonstrator's traces, then each arm trains a
copy of the warm start with the same batches. Every arm is evaluated greedy (temperature 0) and
sampled (the training temperature) on the held-out questions. Writes results.json, table.md,
curves.png and log.jsonl to the run folder and prints the table.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .grpo import Credit, grpo_step, make_rows
from .policy import LivePolicy, build_tiny_planner
from .report import Table, plot_curves, render_table, summarise
from .rollouts import rollout
from .task import split_questions, write_corpus
from .warm_start import demonstrations, supervised

__all__ = ["DemoConfig", "main", "run_demo"]

ARMS: tuple[str, ...] = ("random", "warm_start", "flow_grpo", "shuffled_reward", "last_turn_reward")
_CREDIT: dict[str, Credit] = {"flow_grpo": "broadcast", "shuffled_reward": "shuffled", "last_turn_reward": "last_turn"}


class DemoConfig(BaseModel):
    """Sizes of the reproduction; the defaults are what `make demo-train` runs."""

    seeds: list[int] = [0, 1, 2]
    per_kind: int = 6  # questions per kind in each split (train: 4 kinds; unseen entities: 4; composition: 1)
    hidden: int = 64
    layers: int = 2
    p_early: float = 0.55  # how often the demonstrator finishes too early
    demo_passes: int = 3
    sft_epochs: int = 6
    sft_lr: float = 3e-3
    steps: int = 8
    batch: int = 4  # queries per step
    group: int = 8  # G trajectories per query
    lr: float = 1e-3
    temperature: float = 0.7
    kl_coef: float = 0.001
    threads: int = 2


def _eval(policy: LivePolicy, corpus: Path, questions: list[Any], temperature: float) -> list[float]:
    return [r.reward for r in rollout(policy, corpus, questions, temperature=temperature, tag="eval")]


def run_seed(cfg: DemoConfig, seed: int, folder: Path, log: Any) -> dict[str, Any]:
    """Every arm on one seed: per-question outcomes on the held-out split, and training curves."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    kb, splits = split_questions(seed, cfg.per_kind)
    held_out = splits["test_entity"] + splits["test_composition"]
    corpus = write_corpus(kb, folder / "data")
    model_dir = build_tiny_planner(folder / f"planner-{seed}", [kb], hidden=cfg.hidden, layers=cfg.layers, seed=seed)
    tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    model: Any = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
    model.eval()
    out: dict[str, Any] = {"seed": seed, "held_out": [q.id for q in held_out], "arms": {}, "curves": {}}

    def evaluate(arm: str, policy: LivePolicy) -> None:
        out["arms"][arm] = {
            "greedy": _eval(policy, corpus, held_out, 0.0),
            "sampled": _eval(policy, corpus, held_out, cfg.temperature),
        }
        log.write(
            json.dumps({"seed": seed, "arm": arm, "eval": {k: sum(v) / len(v) for k, v in out["arms"][arm].items()}})
            + "\n"
        )

    evaluate("random", LivePolicy(model, tok, seed=seed))
    traces = demonstrations(corpus, splits["train"], p_early=cfg.p_early, passes=cfg.demo_passes, seed=seed)
    losses = supervised(model, tok, traces, epochs=cfg.sft_epochs, lr=cfg.sft_lr, batch=16, seed=seed)
    log.write(json.dumps({"seed": seed, "warm_start_loss": losses, "traces": len(traces)}) + "\n")
    evaluate("warm_start", LivePolicy(model, tok, seed=seed))
    warm = copy.deepcopy(model.state_dict())
    reference = copy.deepcopy(model).eval()
    for arm, credit in _CREDIT.items():
        model.load_state_dict(warm)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
        policy = LivePolicy(model, tok, seed=seed)
        order = random.Random(f"{seed}:batches")  # the same batches for every arm
        shuffle_rng = random.Random(f"{seed}:shuffle")
        curve = []
        for step in range(cfg.steps):
            started = time.perf_counter()
            batch = order.sample(splits["train"], cfg.batch)
            done = rollout(policy, corpus, batch, temperature=cfg.temperature, group=cfg.group, tag=f"s{step}")
            rows, flat = make_rows(done, credit, shuffle_rng)
            loss, clip, kl = grpo_step(
                model,
                reference,
                optimizer,
                rows,
                pad=tok.pad_token_id,
                temperature=cfg.temperature,
                kl_coef=cfg.kl_coef,
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
                "rows_per_s": sum(len(r.calls) for r in done) / seconds,
            }
            log.write(json.dumps(row) + "\n")
            log.flush()
            curve.append(reward)
        out["curves"][arm] = curve
        evaluate(arm, policy)
    return out


def run_demo(cfg: DemoConfig, folder: Path) -> Table:
    """Run every seed, write the report files into `folder` and return the table."""
    import torch

    torch.set_num_threads(cfg.threads)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    seeds = []
    with (folder / "log.jsonl").open("w") as log:
        for seed in cfg.seeds:
            seeds.append(run_seed(cfg, seed, folder, log))
            print(f"seed {seed} done after {time.perf_counter() - started:.0f} s", flush=True)
    table = summarise(seeds, ARMS)
    (folder / "results.json").write_text(
        json.dumps({"config": cfg.model_dump(), "seeds": seeds, "table": table.model_dump()}, indent=1)
    )
    text = render_table(table, cfg, time.perf_counter() - started)
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
    args = parser.parse_args(argv)
    given = {"seeds": args.seeds, "steps": args.steps, "per_kind": args.per_kind}
    cfg = DemoConfig(**{k: v for k, v in given.items() if v is not None})
    run_demo(cfg, Path(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
