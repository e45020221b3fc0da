"""InProcessPolicy decodes concurrent rollouts' requests as one batch, each row as it would be alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from aiflows.llm.tiny import build_tiny_causal_lm
from aiflows.llm.types import ChatMessage, Request
from training.flow_grpo import FlowGRPOConfig, InProcessPolicy, collect_rollouts, load_policy
from training.flow_grpo.setup import resolve_agent, resolve_policy, resolve_task

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "flow_grpo_kbqa.yaml"


def _request(text: str, seed: int | None, temperature: float = 1.0) -> Request:
    return Request(
        model="p", messages=(ChatMessage(role="user", content=text),), temperature=temperature, max_tokens=6, seed=seed
    )


def test_a_batch_gives_each_row_what_it_gets_alone(tmp_path: Path) -> None:
    corpus = ["Tool Name: retrieve", "Sub-Goal: entity 1", "What is the office of Varno?"] * 10
    policy = InProcessPolicy(*load_policy(build_tiny_causal_lm(tmp_path, corpus, vocab_size=120, hidden=32)))
    requests = [_request("Varno? " * (1 + i % 4), seed=i) for i in range(6)] + [_request("office", 9, 0.0)]
    together = policy.generate_batch(requests)
    for request, batched in zip(requests, together, strict=True):
        alone = policy.generate(request)
        assert alone.prompt_ids == batched.prompt_ids and alone.response_ids == batched.response_ids
        assert alone.logprobs == pytest.approx(batched.logprobs, abs=1e-5)
        assert 1 <= len(alone.response_ids) <= 6
    again = policy.generate_batch(list(reversed(requests)))  # a request's seed, not its place, decides
    assert [a.response_ids for a in reversed(again)] == [b.response_ids for b in together]


def test_concurrent_rollouts_meet_in_batches(tmp_path: Path) -> None:
    data = {**yaml.safe_load(EXAMPLE.read_text()), "out": str(tmp_path), "progress": False, "plot": False}
    config = FlowGRPOConfig(**data)
    task = resolve_task(config)
    policy = InProcessPolicy(*resolve_policy(config, tmp_path), max_new_tokens=1)
    sizes: list[int] = []
    decode = policy.generate_batch

    def counted(requests: Any) -> Any:
        sizes.append(len(requests))
        return decode(requests)

    policy.generate_batch = counted  # type: ignore[method-assign]
    done = collect_rollouts(
        resolve_agent(config, task, tmp_path), policy, task, task.examples[:3], group=4, temperature=1.0,
        max_new_tokens=1, seeds=[1, 2, 3],
    )  # fmt: skip
    assert len(done) == 12 and sum(len(t.rows) for t in done) == 12
    assert sizes == [12]  # one planner turn each: every call decoded in one batch
    assert policy.in_flight == 0
