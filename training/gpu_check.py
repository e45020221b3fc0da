"""One prepared check for a machine with a GPU: Flow-GRPO rollout and update throughput of a 0.5B planner.

    python training/gpu_check.py                      # CUDA, bf16, a Qwen2.5-0.5B-shaped model (random weights)
    python training/gpu_check.py --tiny --device cpu  # the same path on a tiny model, to test it anywhere

The model is built from Qwen2.5-0.5B's configuration with random weights and a byte-level BPE
tokenizer trained here (nothing is downloaded). It runs the library's own code: rollout is
`InProcessPolicy.generate_batch` (G sampled answers per prompt in one batch with a KV cache, per-token
log-probabilities, each row its own seeded sampler); update is `training.flow_grpo.update` (the
token-level clipped objective with the k3 KL penalty to a frozen reference, forward and backward over
minibatches of 32 rows, AdamW step).
Prints rows/s of both, peak GPU memory, and a last line `RESULT ...`. Exit code 2 without CUDA.
Sized to finish well under 8 minutes on one GPU.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["build_model", "main"]

if __package__ in (None, ""):  # run as a script from a checkout: the project's packages sit one folder up
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_TEXT = (
    "What is the population, in thousands, of the city where the company Varno has its head office?\n"
    "Action Step 1:\n  Tool: retrieve\n  Sub-goal: entity 1\n  Result: Varno is a company founded in 1901.\n"
    "Tool Name: retrieve\nSub-Goal: office\nTool Name: finish\nSub-Goal: answer\n"
)


def build_model(folder: Path, tiny: bool) -> Path:
    """Qwen2.5-0.5B's shape (24 layers, hidden 896, 14 heads, 2 KV heads, MLP 4864, 151936 embeddings) with
    random bf16 weights, or a 2-layer float32 one, and a BPE tokenizer trained on planner text, in `folder`."""
    from aiflows.llm.tiny import build_tiny_causal_lm

    if tiny:
        return build_tiny_causal_lm(
            folder, [_TEXT] * 50, vocab_size=400, hidden=64, layers=2, heads=4, kv_heads=2, max_positions=2048
        )
    return build_tiny_causal_lm(
        folder,
        [_TEXT] * 50,
        vocab_size=400,
        hidden=896,
        layers=24,
        heads=14,
        kv_heads=2,
        intermediate=4864,
        max_positions=32768,
        embeddings=151936,
        dtype="bfloat16",
    )


def prompt_text(tok: Any, tokens: int) -> str:
    """Planner-like text of about `tokens` tokens."""
    text = _TEXT
    while len(tok(text)["input_ids"]) < tokens:
        text += _TEXT
    return str(tok.decode(tok(text)["input_ids"][:tokens]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model instead of the 0.5B shape")
    parser.add_argument("--prompts", type=int, default=16, help="queries per step")
    parser.add_argument("--group", type=int, default=8, help="G answers per query")
    parser.add_argument("--prompt-len", type=int, default=512)
    parser.add_argument("--new-tokens", type=int, default=48)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args(argv)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; run it on a GPU machine, or pass --tiny --device cpu", file=sys.stderr)
        return 2
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

    from agents import TokenCompletion
    from aiflows.llm.types import ChatMessage, Request
    from training.flow_grpo import FlowGRPOConfig, InProcessPolicy, Row, update
    from training.timing import timed

    cuda = args.device.startswith("cuda")
    dtype = torch.bfloat16 if cuda else torch.float32
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_model(Path(tmp), args.tiny)
        tok = PreTrainedTokenizerFast.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(args.device)
        reference = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(args.device).eval()
    print(f"built and loaded in {time.perf_counter() - started:.1f} s", flush=True)
    reference.requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    params = sum(p.numel() for p in model.parameters())
    rows = args.prompts * args.group
    text = prompt_text(tok, args.prompt_len)
    config = FlowGRPOConfig(temperature=1.0, minibatch=32, kl_coef=0.001, clip_low=0.2, clip_high=0.3)
    policy = InProcessPolicy(model, tok, max_new_tokens=args.new_tokens)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    def rollout_step(requests: list[Request]) -> list[TokenCompletion]:
        model.eval()
        return policy.generate_batch(requests)  # the library's rollout decoding: one batch, one KV cache

    def update_step(answers: list[TokenCompletion]) -> float:
        rewards = torch.rand(args.prompts, args.group).round()
        adv = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-6)).flatten()
        batch = [
            Row(
                query_id=str(i // args.group),
                rollout_id=str(i),
                turn=0,
                prompt_ids=a.prompt_ids,
                response_ids=a.response_ids,
                old_logprobs=a.logprobs,
                advantage=float(adv[i]),
            )
            for i, a in enumerate(answers)
        ]
        return update(model, reference, optimizer, batch, [], config)["loss"]  # the library's update

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    rollout_s = update_s = 0.0
    loss, tokens = 0.0, 0
    for step in range(args.steps + 1):  # step 0 warms up (kernels, allocator) and is not timed
        requests = [
            Request(
                model="policy",
                messages=(ChatMessage(role="user", content=f"Query {q}. {text}"),),
                temperature=1.0,
                max_tokens=args.new_tokens,
                seed=step * 1_000_003 + q * 1000 + g,
            )
            for q in range(args.prompts)
            for g in range(args.group)
        ]
        rollout = timed(rollout_step, requests, sync=sync)
        answers = rollout.value
        updated = timed(update_step, answers, sync=sync)
        loss = updated.value
        if step:
            rollout_s += rollout.seconds
            update_s += updated.seconds
            tokens += sum(len(a.response_ids) for a in answers)
        print(
            f"step {step}: rollout {rollout.seconds:.2f} s, update {updated.seconds:.2f} s, loss {loss:.4f}", flush=True
        )
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    rollout_rows = rows * args.steps / rollout_s
    update_rows = rows * args.steps / update_s
    print(
        f"RESULT device={args.device} params_m={params / 1e6:.1f} dtype={str(dtype).removeprefix('torch.')} "
        f"rows_per_step={rows} rollout_rows_per_s={rollout_rows:.2f} update_rows_per_s={update_rows:.2f} "
        f"rollout_tokens_per_s={tokens / rollout_s:.1f} peak_mem_gib={peak:.2f} loss={loss:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
