"""Structured output: validated answers, feedback on invalid ones, a typed error at the end."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from aiflows import FlowError
from aiflows.llm import ChatFlow
from aiflows.llm.structured import InvalidOutput, parse_output
from aiflows.llm.testing import LoopbackLLMServer


class Verdict(BaseModel):
    verdict: str
    score: int


def test_parse_accepts_fenced_or_embedded_json() -> None:
    assert parse_output('{"verdict": "ok", "score": 3}', Verdict) == Verdict(verdict="ok", score=3)
    fenced = 'Here you go:\n```json\n{"verdict": "ok", "score": 3}\n```\nbye'
    assert parse_output(fenced, Verdict).score == 3
    assert parse_output('Sure! {"verdict": "ok", "score": 3} Done.', Verdict).verdict == "ok"


def test_parse_says_what_is_wrong() -> None:
    with pytest.raises(InvalidOutput, match="not valid JSON"):
        parse_output("no json at all", Verdict)
    with pytest.raises(InvalidOutput, match="score"):
        parse_output('{"verdict": "ok", "score": "high"}', Verdict)


async def test_valid_answer_is_parsed(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(response_model="tests.llm.test_structured:Verdict")
    llm_server.script('{"verdict": "accept", "score": 9}')
    out = await chat.run({"query": "judge this"})
    assert out["parsed"] == {"verdict": "accept", "score": 9}
    system = llm_server.requests[0].messages[0]
    assert system["role"] == "system" and '"score"' in system["content"]  # the schema was asked for


async def test_invalid_answer_is_retried_with_the_error_fed_back(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(first_prompt="{{ q }}")
    chat = ChatFlow(name="judge", config=chat.config, response_model=Verdict, env=chat._env)
    llm_server.script("I think it is fine", '{"verdict": "ok", "score": "ten"}', '{"verdict": "ok", "score": 10}')
    out = await chat.run({"q": "judge"})
    assert out["parsed"] == {"verdict": "ok", "score": 10}
    assert len(llm_server.requests) == 3
    second = llm_server.requests[1].messages
    assert second[-2] == {"role": "assistant", "content": "I think it is fine"}
    assert "not valid JSON" in second[-1]["content"]
    third = llm_server.requests[2].messages
    assert "score" in third[-1]["content"] and "integer" in third[-1]["content"]
    assert out["usage"]["calls"] == 3  # every try is accounted for


async def test_conversation_keeps_only_the_valid_answer(make_chat, llm_server: LoopbackLLMServer) -> None:
    from aiflows import Runtime

    chat = make_chat(first_prompt="{{ q }}", response_model="tests.llm.test_structured:Verdict")
    llm_server.script("junk", '{"verdict": "a", "score": 1}', '{"verdict": "b", "score": 2}')
    async with Runtime() as rt:
        await rt.run(chat, {"q": "first"}, session="s")
        await rt.run(chat, {"q": "second"}, session="s")
    contents = [m["content"] for m in llm_server.requests[-1].messages[1:]]
    assert contents == ["first", '{"verdict": "a", "score": 1}', "second"]


async def test_gives_up_with_a_typed_error(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat("grader", response_model="tests.llm.test_structured:Verdict", structured_retries=1)
    llm_server.script("nope", '{"verdict": 1}')
    with pytest.raises(FlowError) as info:
        await chat.run({"query": "judge"})
    err = info.value
    assert err.type == "StructuredOutputError"
    assert "grader" in err.message and "openai/gpt-4o-mini" in err.message and "Verdict" in err.message
    assert len(llm_server.requests) == 2


async def test_json_schema_response_format_is_sent(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(response_model="tests.llm.test_structured:Verdict", response_format="json_schema")
    llm_server.script(json.dumps({"verdict": "x", "score": 0}))
    await chat.run({"query": "judge"})
    fmt = llm_server.requests[0].body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "Verdict"


def test_bad_response_model_is_a_config_error() -> None:
    from aiflows import ConfigError

    with pytest.raises(ConfigError, match="response_model"):
        ChatFlow(config={"model": "openai/x", "response_model": "tests.llm.test_structured:Nope"})
