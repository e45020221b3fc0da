"""An AgentFlow agent that draws with a generative model: asked for "digits that look like a 7, sharp",
its planner picks the sampler tool and its executor the class, the guidance scale and the step count.

    aiflows train gen data=digits class_conditional=true steps=3000 out_dir=runs/digits   # once
    python examples/agent_sampler.py --model openai/gpt-4o-mini --checkpoint runs/digits/ckpt.pt
    python examples/agent_sampler.py --model openai/qwen --api-base http://127.0.0.1:8000/v1 \\
        --checkpoint runs/digits/ckpt.pt --query "three sharp digits that look like a 4"

The sampler is an ordinary flow (flows_hub/generative); serve it on a GPU machine with `aiflows serve`
and pass its address instead of the object, and the agent is unchanged. Keys come from the
provider's usual variable (OPENAI_API_KEY, ...).
"""

from __future__ import annotations

import argparse
import json

from agents import build_agent
from flows_hub.generative.flow import SamplerFlow


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="the model of every module (default: AIFLOWS_MODEL)")
    parser.add_argument("--api-base", default=None, help="an OpenAI-compatible endpoint (vLLM, llama.cpp, a proxy)")
    parser.add_argument("--checkpoint", required=True, help="a class-conditional digits checkpoint (aiflows train gen)")
    parser.add_argument("--artifacts", default="file", help="where pictures go: file, a folder, or a redis:// URL")
    parser.add_argument("--query", default="Draw digits that look like a 7, sharp.", help="what to ask the agent")
    parser.add_argument("--max-steps", type=int, default=3, help="turns after the query analysis")
    args = parser.parse_args(argv)

    sampler = SamplerFlow(name="sampler", config={"models": {"digits": args.checkpoint}, "artifacts": args.artifacts})
    agent = build_agent(
        planner_main={"model": args.model} if args.model else {},
        tools=[sampler],
        max_steps=args.max_steps,
        **({"api_base": args.api_base} if args.api_base else {}),
    )
    out = agent.run_sync({"query": f"{args.query} Use the model 'digits'."})
    for turn in out["turns"]:
        print(f"turn {turn['turn']}: {turn['action']['tool_name']} {json.dumps(turn['command'])}")
        print(f"  -> {turn['result'][:200]}")
    print(f"answer: {out['answer']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
