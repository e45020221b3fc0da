"""`aiflows agent eval`: run an agent over a task and write records and a report.

    aiflows agent eval --task game24 --agent examples/agent_kbqa.yaml --model openai/gpt-4o-mini -j 4 --limit 20
    aiflows agent eval --task kbqa --split test_composition --agent agent.yaml --samples 4 --out runs/kbqa

Re-running the same command with the same `--out` resumes: finished queries are not run again.
Each record names its run (`trace_id`): `aiflows trace <trace_id>` shows it turn by turn.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

__all__ = ["cmd_eval", "register"]


def register(commands: Any) -> None:
    ev = commands.add_parser("eval", help="evaluate an agent on game24, gsm8k or kbqa")
    ev.add_argument("--task", required=True, choices=["game24", "gsm8k", "kbqa"], help="the task to run")
    ev.add_argument("--agent", required=True, help="the agent: path/to/agent.yaml or module:attribute")
    ev.add_argument("--model", default=None, help="the model every LLM module uses (sets AIFLOWS_MODEL)")
    ev.add_argument("-j", "--jobs", type=int, default=1, help="queries run at once")
    ev.add_argument("--limit", type=int, default=None, help="only the first N queries")
    ev.add_argument("--samples", type=int, default=1, help="runs per query")
    ev.add_argument("--split", default=None, help="gsm8k: test|train; kbqa: train|test_entity|test_composition")
    ev.add_argument("--seed", type=int, default=0, help="kbqa: the knowledge base's seed")
    ev.add_argument("--data-dir", default=None, help="the agent data folder (default ../shared/data/agent)")
    ev.add_argument("--out", default=None, help="where records and the report go (default runs/agent-eval/TASK)")
    ev.add_argument("--judge-model", default=None, help="score with this chat model as judge instead of exactly")
    ev.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a YAML key (dotted)")
    ev.add_argument("--store", default=None, help="the SQLite run store (default $AIFLOWS_HOME/runs.db)")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar")
    ev.set_defaults(func=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from aiflows.llm import ChatConfig
    from aiflows.llm.factory import build_backend
    from aiflows.llm.models import choose_model
    from aiflows.loader import build_from_spec, target_spec
    from aiflows.runtime import Runtime, SqliteStore, default_store_path

    from .harness import EvalConfig, evaluate_agent
    from .scorers import JudgeScorer
    from .tasks import load_task

    if args.model:
        os.environ["AIFLOWS_MODEL"] = args.model
    spec = target_spec(args.agent, args.set)
    agent = build_from_spec(spec)
    task = load_task(args.task, data_dir=args.data_dir, split=args.split, seed=args.seed)
    out = Path(args.out or Path("runs") / "agent-eval" / args.task)
    config = EvalConfig(out=out, limit=args.limit, samples=args.samples, jobs=args.jobs, progress=not args.no_progress)
    judge = None
    if args.judge_model:
        cfg = ChatConfig(model=args.judge_model)
        choice = choose_model(args.judge_model, None, {k: v for k, v in os.environ.items() if k != "AIFLOWS_MODEL"})
        judge = JudgeScorer(build_backend(choice, cfg, os.environ), model=choice.model)

    async def go() -> Any:
        async with Runtime(store=SqliteStore(args.store or default_store_path())) as rt:
            return await evaluate_agent(agent, task, config, runtime=rt, judge=judge, spec=spec)

    report = asyncio.run(go())
    print(
        f"{task.name}: accuracy {100 * report.accuracy:.1f}% "
        f"(95% CI {100 * report.accuracy_low:.1f}-{100 * report.accuracy_high:.1f}) over {report.queries} queries, "
        f"{report.runs} runs, {report.failed_runs} failed; mean turns {report.mean_turns:.2f}; "
        f"invalid actions {100 * report.invalid_action_rate:.1f}%; report in {out}/report.md"
    )
    return 0
