"""Flow-GRPO in the flow (multi-turn, a row per planner turn) against TRL's GRPOTrainer (single-turn plan).

    python benchmarks/grpo.py [--steps 6 --batch 4 --group 8 --per-kind 6]

Same tiny planner (a 2-layer Qwen2 and a BPE tokenizer built here), same kbqa questions, same
G, batch of queries, steps, learning rate, temperature, clip (0.2 / 0.3) and KL coefficient:

    ours  the planner runs inside the AgentFlow, one turn at a time, seeing each tool result;
          Flow-GRPO with the reward broadcast to every turn: the library's loop, training.flow_grpo.train
          (all of a step's rollouts at once, their planner calls decoded in one batch)
    trl   the same task posed single-turn: the planner writes the whole plan in one completion,
          which is replayed through the same agent and scored by the same exact reward

Both start from a warm start on the same weak demonstrator (its turns for ours, its whole plans for
TRL). Reported: trajectories per second of training (rollout + update), per wall-clock and per CPU
second (the process's, which a busy machine distorts less), and greedy held-out success after the
same number of sampled trajectories. Last line: RESULT rows_per_s=... trl_rows_per_s=...
ratio_vs_trl=... success_flow=... success_trl=... rows_per_cpu_s=... trl_rows_per_cpu_s=... ratio_vs_trl_cpu=...
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path
from typing import Any

from agents import PlannerFlow
from agents.eval import Example, Task
from aiflows.flow import Flow
from aiflows.llm.types import ChatMessage, Completion, Request, Usage
from training.flow_grpo import FlowGRPOConfig, InProcessPolicy, batch_for, collect_rollouts, train
from training.flow_grpo.demo.policy import action_text, build_tiny_planner, plan_step
from training.flow_grpo.demo.rollouts import SYSTEM, make_planner
from training.flow_grpo.demo.task import PLANNER_PROMPT, build_demo_agent, reward, split_questions, write_corpus
from training.flow_grpo.demo.warm_start import demonstrations, supervised
from training.flow_grpo.rollouts import TrainedPlanner
from training.timing import timed

_ACTION = re.compile(r"Tool Name:\s*(\S+)\s*\nSub-Goal:\s*([^\n]*)")
PLAN_PROMPT = "{query}\nWrite the whole plan."


class Replay:
    """A planner backend that answers each turn with the next action of a plan written in advance."""

    def __init__(self, plan: str) -> None:
        self.actions = [action_text(t, g.strip()) for t, g in _ACTION.findall(plan)]
        self.model = "replay"

    async def complete(self, request: Request) -> Completion:
        text = self.actions.pop(0) if self.actions else action_text("finish", "answer")
        return Completion(completions=[text], finish_reasons=["stop"], usage=Usage(calls=1), model=self.model)

    async def stream(self, request: Request) -> Any:
        raise NotImplementedError


def score_plan(plan: str, question: Any, corpus: Path) -> float:
    """A single-turn plan replayed through the same agent, scored by the same exact reward."""
    agent = build_demo_agent(make_planner(Replay(plan), temperature=0.0), corpus)
    return reward(agent.run_sync({"query": question.question})["answer"], question)


def plan_traces(
    questions: list[Any], *, p_early: float, passes: int, seed: int
) -> list[tuple[list[dict[str, str]], str]]:
    """The demonstrator's whole plans, one completion per question and pass (the single-turn warm start)."""
    rng = random.Random(seed)
    out = []
    for _ in range(passes):
        for q in questions:
            steps: list[tuple[str, str]] = []
            while not steps or steps[-1][0] != "finish":
                steps.append(plan_step(q.question, len(steps), rng, p_early))
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": PLAN_PROMPT.format(query=q.question)},
            ]
            out.append((messages, "\n".join(action_text(t, g) for t, g in steps)))
    return out


def single_turn_success(model: Any, tok: Any, questions: list[Any], corpus: Path) -> float:
    policy = InProcessPolicy(model, tok, max_new_tokens=64)
    requests = [
        Request(
            model="p",
            messages=(
                ChatMessage(role="system", content=SYSTEM),
                ChatMessage(role="user", content=PLAN_PROMPT.format(query=q.question)),
            ),
            temperature=0.0,
            max_tokens=64,
        )
        for q in questions
    ]
    plans = [c.text for c in policy.generate_batch(requests)]
    return sum(score_plan(p, q, corpus) for p, q in zip(plans, questions, strict=True)) / len(questions)


def kbqa_task(questions: list[Any]) -> Task:
    """The demo's questions as an eval-harness task, scored by the demo's exact reward."""
    examples = [Example(id=q.id, query=q.question, answer=q.answer, meta={"kind": q.kind}) for q in questions]
    by_id = {q.id: q for q in questions}
    return Task(name="kbqa", examples=examples, scorer=lambda answer, e: reward(answer, by_id[e.id]))


def agent_factory(corpus: Path) -> Any:
    """The demo's agent around the trained planner, the planner prompted as the warm start was."""

    def factory(trained: PlannerFlow) -> Flow:
        planner = TrainedPlanner(
            seeds=getattr(trained, "seeds", None),
            name="planner",
            backend=trained.backend(),
            recorder=trained.recorder,
            prompts={"next_step": PLANNER_PROMPT},
            config={**trained.config.model_dump(exclude_unset=True), "max_tokens": 16, "system_prompt": SYSTEM},
        )
        return build_demo_agent(planner, corpus)

    return factory


def flow_success(model: Any, tok: Any, questions: list[Any], corpus: Path) -> float:
    """Greedy held-out success of the planner in the flow (the library's rollouts, one per question)."""
    task = kbqa_task(questions)
    done = collect_rollouts(
        agent_factory(corpus), InProcessPolicy(model, tok), task, task.examples, group=1, temperature=0.0,
        max_new_tokens=16,
    )  # fmt: skip
    return sum(t.reward for t in done) / len(done)


def run_ours(
    model: Any, tok: Any, splits: dict[str, Any], corpus: Path, args: Any, folder: Path
) -> tuple[float, float, float]:
    config = FlowGRPOConfig(
        group=args.group,
        queries=args.batch,
        steps=args.steps,
        lr=args.lr,
        temperature=args.temperature,
        max_turns=7,
        max_new_tokens=16,
        kl_coef=0.001,
        clip_low=0.2,
        clip_high=0.3,
        credit="broadcast",
        seed=args.seed,
        checkpoint_every=args.steps,
        out=str(folder / "flow"),
        progress=False,
        plot=False,
    )
    if getattr(model.config, "pad_token_id", None) is None:
        model.config.pad_token_id = tok.pad_token_id
    run = timed(
        lambda: train(config, agent_factory=agent_factory(corpus), task=kbqa_task(splits["train"]), policy=(model, tok))
    )
    trajectories = args.steps * args.batch * args.group
    held = splits["test_entity"] + splits["test_composition"]
    return trajectories / run.seconds, trajectories / run.cpu_seconds, flow_success(run.value.model, tok, held, corpus)


def run_trl(
    model: Any, tok: Any, splits: dict[str, Any], corpus: Path, args: Any, folder: Path
) -> tuple[float, float, float]:
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    by_id = {q.id: q for q in splits["train"]}
    # the queries of ours, step by step (training.flow_grpo.batch_for), in the same order
    examples = kbqa_task(splits["train"]).examples
    picked = [by_id[e.id] for step in range(args.steps) for e in batch_for(examples, args.seed, step, args.batch)]
    data = Dataset.from_list(
        [
            {
                "prompt": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": PLAN_PROMPT.format(query=q.question)},
                ],
                "qid": q.id,
            }
            for q in picked
        ]
    )

    def plan_reward(prompts: list[Any], completions: list[Any], qid: list[str], **_: Any) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
        return [score_plan(t, by_id[i], corpus) for t, i in zip(texts, qid, strict=True)]

    config = GRPOConfig(
        output_dir=str(folder / "trl"),
        num_generations=args.group,
        per_device_train_batch_size=args.batch * args.group,
        max_steps=args.steps,
        learning_rate=args.lr,
        beta=0.001,
        epsilon=0.2,
        epsilon_high=0.3,
        temperature=args.temperature,
        max_completion_length=64,
        loss_type="grpo",
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=args.seed,
        shuffle_dataset=False,
    )
    trainer = GRPOTrainer(model=model, reward_funcs=plan_reward, args=config, train_dataset=data, processing_class=tok)
    run = timed(trainer.train)
    model.eval()
    held = splits["test_entity"] + splits["test_composition"]
    trajectories = args.steps * args.batch * args.group
    return trajectories / run.seconds, trajectories / run.cpu_seconds, single_turn_success(model, tok, held, corpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Flow-GRPO in the flow against TRL's GRPOTrainer single-turn.")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--per-kind", type=int, default=6)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads of both arms (on a busy 2-core machine 1 is fastest)"
    )
    parser.add_argument("--warm-epochs", type=int, default=6, help="epochs of the supervised warm start")
    parser.add_argument("--out", default="bench_runs/grpo")
    args = parser.parse_args(argv)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    folder = Path(args.out)
    kb, splits = split_questions(args.seed, args.per_kind)
    corpus = write_corpus(kb, folder / "data")
    model_dir = build_tiny_planner(folder / "planner", [kb], seed=args.seed)
    tok = AutoTokenizer.from_pretrained(model_dir, local_files_only=True)

    def fresh() -> Any:
        m: Any = AutoModelForCausalLM.from_pretrained(model_dir, local_files_only=True)
        return m

    ours = fresh()
    turns = demonstrations(corpus, splits["train"], p_early=0.55, passes=3, seed=args.seed)
    supervised(ours, tok, turns, epochs=args.warm_epochs, lr=3e-3, batch=16, seed=args.seed)
    trl_model = fresh()
    plans = plan_traces(splits["train"], p_early=0.55, passes=3, seed=args.seed)
    supervised(trl_model, tok, plans, epochs=args.warm_epochs, lr=3e-3, batch=16, seed=args.seed)
    held = splits["test_entity"] + splits["test_composition"]
    warm_flow = flow_success(ours, tok, held, corpus)
    warm_trl = single_turn_success(trl_model, tok, held, corpus)
    print(f"warm start, held-out greedy success: in the flow {warm_flow:.3f}, single-turn {warm_trl:.3f}")
    rate, cpu_rate, success = run_ours(ours, tok, splits, corpus, args, folder)
    print(f"ours: {rate:.2f} trajectories/s ({cpu_rate:.2f} per CPU second), held-out greedy success {success:.3f}")
    trl_rate, trl_cpu_rate, trl_success = run_trl(trl_model, tok, splits, corpus, args, folder)
    print(
        f"trl:  {trl_rate:.2f} trajectories/s ({trl_cpu_rate:.2f} per CPU second), held-out greedy success {trl_success:.3f}"
    )
    print(
        f"RESULT rows_per_s={rate:.2f} trl_rows_per_s={trl_rate:.2f} ratio_vs_trl={rate / trl_rate:.2f} "
        f"success_flow={success:.3f} success_trl={trl_success:.3f} "
        f"rows_per_cpu_s={cpu_rate:.2f} trl_rows_per_cpu_s={trl_cpu_rate:.2f} ratio_vs_trl_cpu={cpu_rate / trl_cpu_rate:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
