"""Exact scorers (the rewards of training) and the model-as-judge scorer over the loopback server."""

from __future__ import annotations

import pytest

from agents.eval import Example, JudgeScorer, load_task, normalize_number, score_game24, score_gsm8k, score_kbqa
from aiflows import ConfigError


@pytest.mark.parametrize(
    ("response", "score"),
    [
        ("8 / (3 - 8 / 3)", 1.0),
        ("Let me think.\n8/(3-8/3) = 24", 1.0),
        ("(8 - 3) * 3 + 8", 0.0),  # 23
        ("8 * 3", 0.0),  # does not use every number
        ("8 * 3 * (3 / 3) * 8 / 8", 0.0),  # uses numbers that are not in the puzzle
        ("8 / (3 - 3)", 0.0),
    ],
)
def test_game24(response: str, score: float) -> None:
    assert score_game24(response, Example(id="x", query="", answer="3 3 8 8")) == score


def test_game24_data_loads_with_the_shared_puzzles(shared_data) -> None:
    task = load_task("game24", data_dir=shared_data / "agent")
    assert len(task.examples) == 1362 and task.examples[0].answer == "1 1 4 6"
    assert task.scorer("(1 + 1 + 4) * 6 - 12", task.examples[0]) == 0.0
    assert task.scorer("(1 + 1) * 4 * 6 / 2", task.examples[0]) == 0.0  # a 2 the puzzle does not have
    assert task.scorer("4 * 6 * 1 * 1", task.examples[0]) == 1.0


def test_gsm8k(shared_data) -> None:
    task = load_task("gsm8k", data_dir=shared_data / "agent")
    first = task.examples[0]
    assert first.answer == "18"
    assert score_gsm8k("She makes $18.00 a day.", first) == 1.0
    assert score_gsm8k("18 eggs, so 36", first) == 0.0
    assert normalize_number("1,234.50 dollars") == normalize_number("1234.5")
    with pytest.raises(ConfigError, match="splits test and train"):
        load_task("gsm8k", data_dir=shared_data / "agent", split="dev")


def test_kbqa_normalised_exact_match() -> None:
    ex = Example(id="k", query="", answer="117")
    assert score_kbqa("117", ex) == score_kbqa(" 117. ", ex) == score_kbqa("The answer is 117", ex) == 1.0
    assert score_kbqa("117 or 118", ex) == score_kbqa("116", ex) == 0.0
    assert score_kbqa("the Varno", Example(id="k", query="", answer="Varno")) == 1.0


def test_unknown_task_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown task 'chess'"):
        load_task("chess")


async def test_judge_scorer_asks_its_model(llm_server, module_config) -> None:
    from aiflows.llm import ChatConfig
    from aiflows.llm.factory import build_backend
    from aiflows.llm.models import choose_model

    cfg = ChatConfig.model_validate(module_config())
    import os

    backend = build_backend(choose_model(cfg.model, cfg.api_base, os.environ), cfg, os.environ)
    judge = JudgeScorer(backend, model="openai/scripted")
    llm_server.script("YES, they agree.", "NO")
    assert await judge.score("2+2?", "four", "4") == 1.0
    assert await judge.score("2+2?", "five", "4") == 0.0
    assert "Reference answer: 4" in llm_server.requests[0].messages[-1]["content"]
