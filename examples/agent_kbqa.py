"""An AgentFlow agent answering questions about a knowledge base it has never seen: it retrieves facts
from a corpus and computes with an exact calculator; planner, executor, verifier and generator are
each a model-backed flow, and every turn is traced.

    python examples/agent_kbqa.py --model openai/gpt-4o-mini
    python examples/agent_kbqa.py --model openai/qwen --api-base http://127.0.0.1:8000/v1 --question 3
    python examples/agent_kbqa.py --model openai/gpt-4o-mini --planner local:/models/qwen2.5-0.5b-instruct

Evaluate the same agent (examples/agent_kbqa.yaml) on the whole task:

    aiflows agent eval --task kbqa --agent examples/agent_kbqa.yaml --model openai/gpt-4o-mini -j 4 --limit 50

Keys come from the provider's usual variable (OPENAI_API_KEY, ...).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from agents import build_agent
from agents.eval import load_task
from agents.tools import CalculatorTool, RetrieveTool


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="the model of every module (default: AIFLOWS_MODEL)")
    parser.add_argument("--planner", default=None, help="the planner's own model (the one training improves)")
    parser.add_argument("--api-base", default=None, help="an OpenAI-compatible endpoint (vLLM, llama.cpp, a proxy)")
    parser.add_argument("--split", default="test_entity", help="train, test_entity or test_composition")
    parser.add_argument("--question", type=int, default=0, help="which question of the split")
    parser.add_argument("--retriever", default="auto", choices=["auto", "dense", "bm25"], help="how retrieve ranks")
    parser.add_argument("--max-steps", type=int, default=6, help="turns after the query analysis")
    args = parser.parse_args(argv)

    task = load_task("kbqa", split=args.split)
    example = task.examples[args.question]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(row) + "\n" for row in task.corpus))
        common = {"api_base": args.api_base} if args.api_base else {}
        fixed = {"model": args.model} if args.model else {}
        agent = build_agent(
            planner_main={"model": args.planner} if args.planner else fixed,
            planner_fixed=fixed,
            tools=[RetrieveTool(config={"corpus": str(corpus), "backend": args.retriever}), CalculatorTool()],
            max_steps=args.max_steps,
            **common,
        )
        out = agent.run_sync({"query": example.query, "query_id": example.id})
    for turn in out["turns"]:
        print(
            f"turn {turn['turn']}: {turn['action']['tool_name']} {json.dumps(turn['command'])} -> {turn['result'][:80]}"
        )
    right = task.scorer(out["answer"], example) == 1.0
    print(f"question: {example.query}")
    print(f"answer: {out['answer']}  (reference {example.answer}: {'right' if right else 'wrong'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
