"""One prepared check for a machine with a GPU: Flow-GRPO rollout and update throughput of a 0.5B planner.

    python training/gpu_check.py                      # CUDA, bf16, a Qwen2.5-0.5B-shaped model (random weights)
    python training/gpu_check.py --tiny --device cpu  # the same path on a tiny model, to test it anywhere

The model is built from Qwen2.5-0.5B's configuration with random weights and a byte-level BPE
tokenizer trained here (nothing is downloaded). Rollout: batched sampling of planner answers with a
KV cache (G answers per prompt), recording per-token log-probabilities. Update: the token-level
clipped objective with the k3 KL penalty to a frozen reference, forward and backward, AdamW step.
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


def rollout(model: Any, prompts: Any, new_tokens: int, temperature: float) -> tuple[Any, Any]:
    """Sampled answers (batch x new_tokens) and their log-probabilities, decoded with a KV cache."""
    import torch

    ids, past = prompts, None
    tokens, logps = [], []
    mask = torch.ones_like(prompts)
    with torch.inference_mode():
        for _ in range(new_tokens):
            out = model(input_ids=ids, attention_mask=mask, past_key_values=past, use_cache=True)
            past = out.past_key_values
            logp = torch.log_softmax(out.logits[:, -1].float() / temperature, dim=-1)
            token = torch.multinomial(logp.exp(), 1)
            tokens.append(token)
            logps.append(logp.gather(-1, token))
            ids = token
            mask = torch.cat([mask, torch.ones_like(token)], dim=-1)
    return torch.cat(tokens, dim=-1), torch.cat(logps, dim=-1)


def update(model: Any, reference: Any, optimizer: Any, prompts: Any, answers: Any, old: Any, adv: Any) -> float:
    """One clipped, KL-penalised step (clip 0.2 / 0.3, k3 coefficient 0.001) on the rows; returns the loss."""
    import torch

    seq = torch.cat([prompts, answers], dim=-1)
    start = prompts.shape[1] - 1

    def logprobs(m: Any) -> Any:
        logits = m(input_ids=seq).logits[:, start:-1].float()
        return torch.log_softmax(logits, dim=-1).gather(-1, answers.unsqueeze(-1)).squeeze(-1)

    new = logprobs(model)
    with torch.no_grad():
        ref = logprobs(reference)
    ratio = torch.exp(new - old)
    a = adv.unsqueeze(-1)
    policy = -torch.minimum(ratio * a, torch.clamp(ratio, 0.8, 1.3) * a)
    k3 = torch.exp(ref - new) - (ref - new) - 1
    loss = (policy + 0.001 * k3).mean()
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    return float(loss.detach())


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

    cuda = args.device.startswith("cuda")
    dtype = torch.bfloat16 if cuda else torch.float32
    with tempfile.TemporaryDirectory() as tmp:
        folder = build_model(Path(tmp), args.tiny)
        tok = PreTrainedTokenizerFast.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(args.device)
        reference = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(args.device).eval()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    params = sum(p.numel() for p in model.parameters())
    rows = args.prompts * args.group
    prompts = torch.randint(3, len(tok), (args.prompts, args.prompt_len), device=args.device)
    prompts = prompts.repeat_interleave(args.group, dim=0)

    def sync() -> None:
        if cuda:
            torch.cuda.synchronize()

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    rollout_s = update_s = 0.0
    loss = 0.0
    for step in range(args.steps + 1):  # step 0 warms up (kernels, allocator) and is not timed
        sync()
        t0 = time.perf_counter()
        model.eval()
        answers, old = rollout(model, prompts, args.new_tokens, 1.0)
        sync()
        t1 = time.perf_counter()
        model.train()
        rewards = torch.rand(args.prompts, args.group, device=args.device).round()
        adv = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-6)).flatten()
        for start in range(0, rows, 32):
            part = slice(start, start + 32)
            loss = update(model, reference, optimizer, prompts[part], answers[part], old[part], adv[part])
        sync()
        t2 = time.perf_counter()
        if step:
            rollout_s += t1 - t0
            update_s += t2 - t1
        print(f"step {step}: rollout {t1 - t0:.2f} s, update {t2 - t1:.2f} s, loss {loss:.4f}", flush=True)
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    rollout_rows = rows * args.steps / rollout_s
    update_rows = rows * args.steps / update_s
    print(
        f"RESULT device={args.device} params_m={params / 1e6:.1f} dtype={str(dtype).removeprefix('torch.')} "
        f"rows_per_step={rows} rollout_rows_per_s={rollout_rows:.2f} update_rows_per_s={update_rows:.2f} "
        f"rollout_tokens_per_s={rollout_rows * args.new_tokens:.1f} peak_mem_gib={peak:.2f} loss={loss:.4f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
