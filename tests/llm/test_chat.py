"""ChatFlow against the loopback OpenAI-protocol server: prompts, conversation state, windows,
sampling options, n completions, streaming and accounting."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from aiflows import FlowError, Runtime, Sequential
from aiflows.llm import ChatFlow, UsageMeter
from aiflows.llm.testing import LoopbackLLMServer, Reply


def roles_and_texts(messages: list[dict]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages]


async def test_renders_system_and_first_turn_then_later_turns(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(
        system_prompt="You teach {{ topic }}.",
        first_prompt="Question: {{ question }}",
        later_prompt="Follow-up: {{ question }}",
    )
    llm_server.script("A group is a set with an operation.", "Yes, the integers under addition.")
    async with Runtime() as rt:
        first = (await rt.run(chat, {"topic": "algebra", "question": "What is a group?"}, session="ada")).unwrap()
        second = (await rt.run(chat, {"topic": "algebra", "question": "An example?"}, session="ada")).unwrap()
    assert first["content"] == "A group is a set with an operation."
    assert second["content"] == "Yes, the integers under addition."
    assert roles_and_texts(llm_server.requests[0].messages) == [
        ("system", "You teach algebra."),
        ("user", "Question: What is a group?"),
    ]
    assert roles_and_texts(llm_server.requests[1].messages) == [
        ("system", "You teach algebra."),
        ("user", "Question: What is a group?"),
        ("assistant", "A group is a set with an operation."),
        ("user", "Follow-up: An example?"),
    ]


async def test_sessions_are_isolated(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(first_prompt="{{ q }}")
    async with Runtime() as rt:
        await rt.run(chat, {"q": "hi from a"}, session="a")
        await rt.run(chat, {"q": "hi from b"}, session="b")
        await rt.run(chat, {"q": "again a"}, session="a")
    assert roles_and_texts(llm_server.requests[1].messages) == [("user", "hi from b")]
    assert [m["content"] for m in llm_server.requests[2].messages] == ["hi from a", "echo: hi from a", "again a"]


async def test_window_keeps_first_k_and_last_k_previous_messages(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(system_prompt="sys", first_prompt="{{ q }}", first_k=2, last_k=1)
    async with Runtime() as rt:
        for q in ("one", "two", "three", "four"):
            await rt.run(chat, {"q": q}, session="s")
    sent = [m["content"] for m in llm_server.requests[-1].messages]
    # history before the 4th turn: one, echo one, two, echo two, three, echo three
    assert sent == ["sys", "one", "echo: one", "echo: three", "four"]


async def test_sampling_options_and_n_completions(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(n=3, temperature=0.7, top_p=0.9, max_tokens=50, stop=["END"], seed=7, presence_penalty=0.1)
    llm_server.script(Reply(content=["first", "second", "third"]))
    out = await chat.run({"query": "name three colours"})
    assert out["content"] == "first"
    assert out["completions"] == ["first", "second", "third"]
    body = llm_server.requests[0].body
    assert body["n"] == 3
    assert body["temperature"] == 0.7
    assert body["top_p"] == 0.9
    assert body["max_tokens"] == 50
    assert body["stop"] == ["END"]
    assert body["seed"] == 7
    assert body["presence_penalty"] == 0.1


async def test_unset_options_are_not_sent(make_chat, llm_server: LoopbackLLMServer) -> None:
    await make_chat().run({"query": "hi"})
    body = llm_server.requests[0].body
    for key in ("temperature", "top_p", "max_tokens", "stop", "seed", "n"):
        assert key not in body


async def test_streaming_emits_tokens_while_running(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(stream=True)
    llm_server.script("The answer is forty two")
    events: list[dict] = []
    out = await chat.run({"query": "?"}, on_event=lambda ev: events.append(ev.data))
    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert len(tokens) == 5
    assert "".join(tokens) == "The answer is forty two" == out["content"]
    assert llm_server.requests[0].stream
    assert out["usage"]["completion_tokens"] == 5
    # tokens arrive before the usage event that closes the call
    kinds = [e["type"] for e in events]
    assert kinds.index("llm.usage") > max(i for i, k in enumerate(kinds) if k == "token")


async def test_usage_event_output_and_meter(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(first_prompt="{{ q }}")
    llm_server.script(Reply(content="ok", prompt_tokens=100, completion_tokens=20))
    meter = UsageMeter()
    out = await chat.run({"q": "hello"}, on_event=meter)
    usage = out["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (100, 20, 120)
    assert usage["calls"] == 1
    # gpt-4o-mini is priced in litellm's cost map: 100 prompt + 20 completion tokens cost something
    assert usage["cost_usd"] > 0
    assert meter.total().total_tokens == 120
    assert meter.total().cost_usd == pytest.approx(usage["cost_usd"])


async def test_usage_is_summed_per_run_across_flows(make_chat, llm_server: LoopbackLLMServer) -> None:
    first = make_chat("first", first_prompt="{{ q }}")
    second = make_chat("second", first_prompt="{{ content }}")
    llm_server.script(
        Reply(content="draft", prompt_tokens=10, completion_tokens=5),
        Reply(content="final", prompt_tokens=30, completion_tokens=7),
    )
    meter = UsageMeter()
    pipeline = Sequential(first, second, name="pipeline")
    out = await pipeline.run({"q": "write"}, on_event=meter)
    assert out["content"] == "final"
    assert llm_server.requests[1].messages[-1]["content"] == "draft"
    total = meter.total()
    assert (total.prompt_tokens, total.completion_tokens, total.calls) == (40, 12, 2)
    assert set(meter.by_model()) == {"openai/gpt-4o-mini"}


async def test_missing_template_variable_is_a_typed_error_naming_it(make_chat) -> None:
    chat = make_chat("asker", first_prompt="Solve {{ problem }} in {{ language }}")
    with pytest.raises(FlowError) as info:
        await chat.run({"problem": "two-sum"})
    err = info.value
    assert err.type == "PromptTemplateError"
    assert "'language'" in err.message
    assert "asker" in err.message
    assert "openai/gpt-4o-mini" in err.message


async def test_broken_template_fails_at_construction(make_chat) -> None:
    from aiflows.llm import PromptTemplateError

    with pytest.raises(PromptTemplateError) as info:
        make_chat("broken", system_prompt="{% if x %}never closed")
    assert "broken" in str(info.value)
    assert "system_prompt" in str(info.value)


async def test_prompts_from_files_next_to_the_flow(tmp_path: Path, llm_server: LoopbackLLMServer) -> None:
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "system.jinja").write_text("You review {{ language }} code.")
    (tmp_path / "prompts" / "first.jinja").write_text("Review:\n{{ code }}")
    chat = ChatFlow(
        config={
            "model": "openai/gpt-4o-mini",
            "api_base": llm_server.url,
            "api_key_env": ["K"],
            "system_prompt_file": "prompts/system.jinja",
            "first_prompt_file": "prompts/first.jinja",
        },
        base_dir=tmp_path,
        env={"K": "sk-1"},
    )
    await chat.run({"language": "Python", "code": "print(1)"})
    assert roles_and_texts(llm_server.requests[0].messages) == [
        ("system", "You review Python code."),
        ("user", "Review:\nprint(1)"),
    ]


def test_missing_prompt_file_is_a_config_error(tmp_path: Path) -> None:
    from aiflows import ConfigError

    with pytest.raises(ConfigError) as info:
        ChatFlow(config={"model": "openai/x", "first_prompt_file": "nope.jinja"}, base_dir=tmp_path)
    assert "nope.jinja" in str(info.value)
    assert "first_prompt_file" in str(info.value)


def test_unknown_config_key_is_rejected() -> None:
    from aiflows import ConfigError

    with pytest.raises(ConfigError) as info:
        ChatFlow(name="c", config={"model": "openai/x", "temprature": 0.2})
    assert "temprature" in str(info.value)


async def test_failed_call_leaves_the_conversation_unchanged(make_chat, llm_server: LoopbackLLMServer) -> None:
    chat = make_chat(first_prompt="{{ q }}", max_retries=0)
    llm_server.script(Reply.context_length())
    async with Runtime() as rt:
        failed = await rt.run(chat, {"q": "too long"}, session="s")
        assert failed.error is not None and failed.error.type == "ContextLengthError"
        await rt.run(chat, {"q": "short"}, session="s")
    assert roles_and_texts(llm_server.requests[-1].messages) == [("user", "short")]


async def test_a_subclass_finds_prompts_next_to_its_module(
    tmp_path: Path, llm_server: LoopbackLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    package = tmp_path / "reviewer_flow"
    (package / "prompts").mkdir(parents=True)
    (package / "prompts" / "first.jinja").write_text("Please review: {{ code }}")
    (package / "flow.py").write_text("from aiflows.llm import ChatFlow\n\nclass Reviewer(ChatFlow):\n    pass\n")
    spec = importlib.util.spec_from_file_location("reviewer_flow_module", package / "flow.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "reviewer_flow_module", module)
    spec.loader.exec_module(module)
    reviewer = module.Reviewer(
        config={
            "model": "openai/gpt-4o-mini",
            "api_base": llm_server.url,
            "api_key_env": ["K"],
            "first_prompt_file": "prompts/first.jinja",
        },
        env={"K": "sk-1"},
    )
    await reviewer.run({"code": "x = 1"})
    assert llm_server.requests[0].messages[-1]["content"] == "Please review: x = 1"


def test_plain_chat_flow_reads_relative_prompts_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "p.jinja").write_text("{{ a }}")
    monkeypatch.chdir(tmp_path)
    chat = ChatFlow(config={"model": "openai/x", "first_prompt_file": "p.jinja"})
    assert chat._first.render({"a": "ok"}) == "ok"
