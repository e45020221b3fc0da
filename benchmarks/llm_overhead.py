"""Framework overhead per LLM call: a ChatFlow call vs a plain `litellm.acompletion` call to the
same OpenAI-protocol server, side by side in one run; plus the time of a cache hit.

    python benchmarks/llm_overhead.py [--calls 200] [--rounds 3]

The server is `aiflows.llm.testing` (an echo model) in its own process on 127.0.0.1, so it does
not share this process's interpreter lock. Both sides send the same single user message with
litellm's retries off; ours goes through the whole stack (Runtime, LocalBus, input validation,
jinja2 rendering, per-session state load/save, usage event, output validation). Calls alternate
between the sides one by one and each side's median call time is reported.

- flow_call_us: one ChatFlow run on a Runtime with an in-memory store (a new session per call)
- flow_call_sqlite_us: the same with the default SQLite run store (runs, journal and traces on disk)
- raw_litellm_us: one `litellm.acompletion` call
- ratio: flow_call_us / raw_litellm_us (goal: at most 1.2)
- cache_hit_us: one ChatFlow run answered from the SQLite response cache (no HTTP at all)

The last line is `RESULT flow_call_us=... raw_litellm_us=... ratio=... cache_hit_us=...`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

MODEL = "openai/gpt-4o-mini"
KEY = "sk-bench"


def start_server() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiflows.llm.testing", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError("the loopback server did not start")
    return proc, url


async def bench(calls: int, rounds: int, url: str, home: Path) -> dict[str, float]:
    import litellm

    from aiflows import Runtime
    from aiflows.llm import ChatFlow
    from aiflows.runtime import MemoryStore, SqliteStore

    litellm.suppress_debug_info = True
    env = {"AIFLOWS_HOME": str(home), "BENCH_KEYS": KEY}
    config = {"model": MODEL, "api_base": url, "api_key_env": ["BENCH_KEYS"]}
    chat = ChatFlow(name="chat", config=config, env=env)
    cached = ChatFlow(name="cached", config={**config, "cache": str(home / "cache.sqlite")}, env=env)
    message = [{"role": "user", "content": "say something"}]

    async def raw() -> float:
        start = time.perf_counter()
        await litellm.acompletion(model=MODEL, api_base=url, api_key=KEY, messages=message, max_retries=0)
        return (time.perf_counter() - start) * 1e6

    async def flow(rt: Runtime, flow_: ChatFlow, session: str) -> float:
        start = time.perf_counter()
        (await rt.run(flow_, {"query": "say something"}, session=session)).unwrap()
        return (time.perf_counter() - start) * 1e6

    results: dict[str, list[float]] = {"raw": [], "flow": [], "flow_sqlite": [], "hit": []}
    async with Runtime(store=MemoryStore()) as mem, Runtime(store=SqliteStore(home / "runs.db")) as disk:
        for i in range(20):  # warm up: imports, connection pools, cost map, the cache entry
            await raw()
            await flow(mem, chat, f"warm-{i}")
            await flow(disk, chat, f"warm-{i}")
            await flow(mem, cached, f"warm-{i}")
        # Interleave call by call, so load from anything else on the machine hits every side alike;
        # medians keep a stray slow call from deciding the result.
        for i in range(calls * rounds):
            results["raw"].append(await raw())
            results["flow"].append(await flow(mem, chat, f"m{i}"))
            results["flow_sqlite"].append(await flow(disk, chat, f"d{i}"))
            results["hit"].append(await flow(mem, cached, f"h{i}"))
    return {k: statistics.median(v) for k, v in results.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="calls per side per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (calls per side = calls * rounds)")
    args = parser.parse_args()
    proc, url = start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            m = asyncio.run(bench(args.calls, args.rounds, url, Path(tmp)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    ratio = m["flow"] / m["raw"]
    print(f"raw litellm.acompletion     {m['raw']:9.0f} us/call")
    print(f"ChatFlow (memory store)     {m['flow']:9.0f} us/call   ratio {ratio:.3f}")
    print(f"ChatFlow (SQLite run store) {m['flow_sqlite']:9.0f} us/call   ratio {m['flow_sqlite'] / m['raw']:.3f}")
    print(f"ChatFlow cache hit          {m['hit']:9.0f} us/call")
    print(
        f"RESULT flow_call_us={m['flow']:.0f} raw_litellm_us={m['raw']:.0f} ratio={ratio:.3f} "
        f"cache_hit_us={m['hit']:.0f} flow_call_sqlite_us={m['flow_sqlite']:.0f} "
        f"ratio_sqlite={m['flow_sqlite'] / m['raw']:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
