"""Agents over a tiny random transformers model built here: the planner's recorder gets prompt and
response token ids and per-token log-probabilities that the model itself confirms."""

from __future__ import annotations

import pytest
import rule_modules as rm

from agents import AgentFlow, ListRecorder, LLMModule, LocalPolicy, PlannerFlow
from agents.tools import CalculatorTool

pytestmark = pytest.mark.slow


def _agent(tiny_model_dir, recorder: ListRecorder, **planner_cfg: object) -> AgentFlow:
    policy = LocalPolicy(tiny_model_dir, max_new_tokens=12)
    planner = PlannerFlow(name="planner", config={"max_tokens": 12, **planner_cfg}, backend=policy, recorder=recorder)
    generator = LLMModule(
        name="generator", config={"model": f"local:{tiny_model_dir}", "max_tokens": 8, "device": "cpu"}
    )
    return AgentFlow(
        planner=planner,
        executor=rm.executor,
        verifier=rm.verifier,
        generator=generator,
        tools=[CalculatorTool()],
        max_steps=2,
    )


def _check_against_model(tiny_model_dir, call, temperature: float) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.tensor([call.prompt_ids + call.response_ids])
    with torch.no_grad():
        logits = model(ids).logits[0].float()
    start = len(call.prompt_ids)
    scaled = logits / temperature if temperature > 0 else logits
    want = torch.log_softmax(scaled[start - 1 : -1], dim=-1).gather(1, torch.tensor(call.response_ids)[:, None])[:, 0]
    assert torch.allclose(torch.tensor(call.logprobs), want, atol=1e-3)


async def test_a_local_planner_records_token_ids_and_logprobs(tiny_model_dir) -> None:
    recorder = ListRecorder()
    agent = _agent(tiny_model_dir, recorder, temperature=0)
    out = await agent.run({"query": "add 1 and 2", "query_id": "q7", "rollout_id": "q7#3"})
    # a random model's plans are unreadable: every turn is an invalid (no-op) step, and the loop still ends
    assert out["steps"] == 2 and out["invalid_actions"] == 2 and out["stop_reason"] == "max_steps"
    assert isinstance(out["answer"], str)
    assert [(c.query_id, c.rollout_id, c.turn, c.phase) for c in recorder.calls] == [
        ("q7", "q7#3", 0, "analysis"),
        ("q7", "q7#3", 1, "next_step"),
        ("q7", "q7#3", 2, "next_step"),
    ]
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    for call in recorder.calls:
        assert call.prompt_ids and call.response_ids and len(call.logprobs) == len(call.response_ids)
        assert all(lp <= 0 for lp in call.logprobs)
        assert "Query: add 1 and 2" in tok.decode(call.prompt_ids)
        assert tok.decode(call.response_ids, skip_special_tokens=True) == call.response
        _check_against_model(tiny_model_dir, call, 0)


async def test_sampled_logprobs_are_those_of_the_sampling_distribution(tiny_model_dir) -> None:
    recorder = ListRecorder()
    agent = _agent(tiny_model_dir, recorder, temperature=0.7, seed=3)
    await agent.run({"query": "add 1 and 2"})
    for call in recorder.calls:
        _check_against_model(tiny_model_dir, call, 0.7)
