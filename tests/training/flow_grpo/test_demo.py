"""The Flow-GRPO reproduction: its task, its demonstrator and a shrunk run end to end."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from agents import PlannerFlow
from training.flow_grpo.demo.grpo import make_rows
from training.flow_grpo.demo.policy import Demonstrator, plan_step
from training.flow_grpo.demo.report import bootstrap
from training.flow_grpo.demo.rollouts import SYSTEM, Rollout
from training.flow_grpo.demo.task import PLANNER_PROMPT, build_demo_agent, reward, split_questions, write_corpus


def _agent(tmp_path: Path, p_early: float, seed: int = 0) -> tuple[object, list, Demonstrator]:
    kb, splits = split_questions(seed, 2)
    corpus = write_corpus(kb, tmp_path)
    teacher = Demonstrator(p_early=p_early, seed=seed)
    planner = PlannerFlow(
        name="planner",
        backend=teacher,
        prompts={"next_step": PLANNER_PROMPT},
        config={"model": "x", "system_prompt": SYSTEM},
    )
    return (
        build_demo_agent(planner, corpus),
        splits["train"] + splits["test_entity"] + splits["test_composition"],
        teacher,
    )


def test_the_right_plans_solve_every_kind_through_the_agent(tmp_path: Path) -> None:
    agent, questions, _ = _agent(tmp_path, p_early=0.0)
    for q in questions:
        out = agent.run_sync({"query": q.question, "query_id": q.id})
        assert reward(out["answer"], q) == 1.0, (q.kind, q.answer, out["memory"])


def test_finishing_early_fails_multi_hop_questions(tmp_path: Path) -> None:
    agent, questions, teacher = _agent(tmp_path, p_early=1.0)
    outcomes = {q.kind: reward(agent.run_sync({"query": q.question})["answer"], q) for q in questions}
    assert outcomes["attribute"] == 1.0  # one hop: nothing to cut short
    assert outcomes["chain3"] == outcomes["sum"] == outcomes["difference"] == 0.0
    assert teacher.traces and all(t[1].startswith("Tool Name: ") for t in teacher.traces)


def test_demonstrator_finishes_early_only_one_hop_short() -> None:
    rng = random.Random(0)
    query = "How many employees do the employers of Ka and of Lo have together (add the two)?"
    assert plan_step(query, 0, rng, 1.0) == ("retrieve", "entity 1")
    assert plan_step(query, 2, rng, 1.0) == ("retrieve", "entity 2")  # mid plan: always right
    assert plan_step(query, 4, rng, 1.0) == ("finish", "answer")  # the arithmetic left undone
    assert plan_step(query, 4, rng, 0.0) == ("calculator", "add")
    city = "What is the population, in thousands, of the city Ka?"
    assert plan_step(city, 0, rng, 1.0) == ("retrieve", "entity 1")  # one hop: nothing to cut short
    shares = [plan_step(query, 4, random.Random(i), 0.65)[0] == "finish" for i in range(400)]
    assert 0.55 < sum(shares) / 400 < 0.75


@pytest.mark.slow
def test_each_action_is_one_token_of_the_planner(tmp_path: Path) -> None:
    from training.flow_grpo.demo.policy import actions, build_tiny_planner
    from training.flow_grpo.policy import load_policy

    kb, _ = split_questions(0, 1)
    model, tok = load_policy(build_tiny_planner(tmp_path / "p", [kb], hidden=16, layers=1))
    for text in actions():
        ids = tok(text, add_special_tokens=False)["input_ids"]
        assert len(ids) == 1 and tok.decode(ids) == text
    assert len(tok("Kavar works for the company Telno.")["input_ids"]) > 3  # prose stays BPE
    assert model.config.vocab_size >= len(tok)


def _fake(question_id: str, value: float, turns: int) -> Rollout:
    from agents.eval.kbqa import KBQuestion
    from training.flow_grpo.rows import Row, Trajectory

    q = KBQuestion(id=question_id, question="q", answer="1", kind="attribute", hops=1, split="train", entities=[])
    rows = [
        Row(query_id=question_id, rollout_id="r", turn=t, prompt_ids=[1, 2], response_ids=[3], old_logprobs=[-0.5])
        for t in range(1, turns + 1)
    ]
    return Rollout(q, Trajectory(query_id=question_id, rollout_id="r", reward=value, rows=rows, turns=turns))


def test_credit_modes_on_a_hand_made_batch() -> None:
    batch = [_fake("a", 1, 2), _fake("a", 0, 3), _fake("b", 1, 1), _fake("b", 1, 1)]
    rows, flat = make_rows(batch, "broadcast", random.Random(0))
    assert flat == 0.5  # group b has no reward variance and gives no rows
    assert [round(r.advantage, 3) for r in rows] == [1.0, 1.0, -1.0, -1.0, -1.0]
    rows, _ = make_rows(batch, "last_turn", random.Random(0))
    assert [round(r.advantage, 3) for r in rows] == [0.0, 1.0, 0.0, 0.0, -1.0]


def test_bootstrap_interval_brackets_the_mean() -> None:
    low, high = bootstrap([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]], resamples=500)
    assert 0.0 <= low < 0.625 < high <= 1.0
    assert bootstrap([[1.0, 1.0]]) == (1.0, 1.0)


@pytest.mark.slow
def test_shrunk_demo_end_to_end(tmp_path: Path) -> None:
    from training.flow_grpo.demo.run import ARMS, DemoConfig, run_demo

    cfg = DemoConfig(
        seeds=[0], per_kind=2, held_out_per_kind=2, steps=2, batch=2, group=2, demo_passes=1, sft_epochs=2, threads=1
    )
    table = run_demo(cfg, tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(table.arms) == set(ARMS)
    seed = results["seeds"][0]
    assert table.questions == len(seed["held_out"]) == 10  # 4 kinds of unseen entities + the unseen composition
    for arm in ARMS:
        for mode in ("greedy", "sampled"):
            outcomes = seed["arms"][arm][mode]
            assert len(outcomes) == 10 and set(outcomes) <= {0.0, 1.0}
            cell = table.arms[arm][mode]
            assert cell.per_seed == [sum(outcomes) / 10]  # the table is the runs' outcomes
            assert cell.low <= cell.mean <= cell.high
    steps = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    trained = [s for s in steps if "step" in s]
    assert {s["arm"] for s in trained} == {"flow_grpo", "shuffled_reward", "last_turn_reward"}
    assert all(0.0 <= s["reward"] <= 1.0 and s["mean_turns"] >= 1 for s in trained)
    assert seed["curves"]["flow_grpo"] == [s["reward"] for s in trained if s["arm"] == "flow_grpo"]
    assert (tmp_path / "curves.png").stat().st_size > 1000
    text = (tmp_path / "table.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert rows[0].startswith("| arm | greedy | sampled") and "unseen composition" in rows[0]
    assert [r.split("|")[1].strip() for r in rows[1:]] == list(ARMS)
    assert all(len(r.split("|")) == len(rows[0].split("|")) for r in rows)
    for arm in ARMS:  # the per-split columns are the runs' outcomes too
        entity = [
            v for v, s in zip(seed["arms"][arm]["greedy"], seed["held_out_split"], strict=True) if s == "test_entity"
        ]
        assert table.by_split[arm]["test_entity"] == sum(entity) / len(entity)
    assert "wall time" in text and "CPU time" in text and results["cpu_s"] > 0


@pytest.mark.slow
def test_sampled_rollouts_do_not_depend_on_timing(tmp_path: Path) -> None:
    """The same seed gives the same trajectories, whatever order the questions come in and batch in."""
    from training.flow_grpo.demo.policy import build_tiny_planner
    from training.flow_grpo.demo.rollouts import rollout
    from training.flow_grpo.policy import InProcessPolicy, load_policy

    kb, splits = split_questions(0, 2)
    corpus = write_corpus(kb, tmp_path)
    model, tok = load_policy(build_tiny_planner(tmp_path / "p", [kb], hidden=16, layers=1))
    questions = splits["train"][:3]

    def run(order: list[int], seed: int = 5) -> list[tuple[str, str, float, tuple[tuple[int, ...], ...]]]:
        policy = InProcessPolicy(model, tok)
        done = rollout(policy, corpus, [questions[i] for i in order], temperature=1.0, group=3, seed=seed)
        return sorted(
            (r.rollout_id, r.question.id, r.reward, tuple(tuple(c.response_ids) for c in r.calls)) for r in done
        )

    first = run([0, 1, 2])
    assert first == run([2, 0, 1])
    assert len({t[3] for t in first}) > 1  # sampling differs between rollouts
    assert first != run([0, 1, 2], seed=6)
