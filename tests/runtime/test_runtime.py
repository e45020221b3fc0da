"""The runtime: hosting, addresses, fire-and-forget sends, idempotent run ids, traces with usage."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from rich.console import Console

from aiflows import AtomicFlow, CompositeFlow, ConfigError, FlowError, MemoryStore, Runtime, SqliteStore, flow
from aiflows.messages import ErrorInfo
from aiflows.runtime.trace import render_tree, trace_messages

calls = {"n": 0}


@flow
def counted(x: int) -> dict:
    calls["n"] += 1
    return {"x": x}


async def test_send_runs_in_the_background_and_records_the_outcome():
    store = MemoryStore()
    async with Runtime(store=store) as rt:
        await rt.host(counted, "count")
        run_id = await rt.send("count", {"x": 5})
    record = await store.get_run(run_id)  # closing the runtime waited for the send
    assert record.status == "done" and record.output == {"x": 5}


async def test_a_finished_run_id_answers_from_its_record_without_running_again(tmp_path):
    calls["n"] = 0
    async with Runtime(store=SqliteStore(tmp_path / "r.db")) as rt:
        first = await rt.run(counted, {"x": 1}, run_id="fixed")
        second = await rt.run(counted, {"x": 1}, run_id="fixed")
    assert first == second and calls["n"] == 1


async def test_addresses_are_unique_and_unknown_ones_are_named():
    async with Runtime(store=MemoryStore()) as rt:
        await rt.host(counted, "a")
        assert await rt.host(counted, "a") == "a"  # hosting the same flow again is harmless
        with pytest.raises(ConfigError, match="already hosts"):
            await rt.host(flow(lambda: {}, name="other"), "a")
        with pytest.raises(FlowError, match="no flow is served at 'ghost' \\(served here: a\\)") as err:
            await rt.call("ghost", {})
        assert err.value.type == "UnknownAddress"


async def test_the_trace_tree_shows_calls_errors_and_llm_usage():
    class Model(AtomicFlow):
        async def handle(self, ctx, data):
            ctx.emit("llm.usage", {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15, "cost_usd": 0.002})
            return {"text": "hi"}

    from aiflows import Parallel

    @flow
    def broken() -> dict:
        raise ValueError("bad <b>markup</b> [red]")

    store = MemoryStore()
    async with Runtime(store=store) as rt:
        result = await rt.run(Parallel({"model": Model(), "broken": broken}, name="team"), {})
        record = await rt.get_run(result.run_id)
        spans, events = await store.spans(result.run_id), await store.events(result.run_id)
    console = Console(width=200, record=True)
    console.print(render_tree(record, spans, events))
    text = console.export_text()
    assert "team/model" in text and "tokens=15 cost=$0.0020" in text
    assert "ValueError: bad <b>markup</b> [red]" in text
    messages = list(trace_messages(spans, events))
    assert [m["kind"] for m in messages].count("event") == 1


async def test_a_run_record_is_what_validation_would_make_and_bad_values_are_refused(tmp_path):
    from pydantic import ValidationError

    from aiflows.records import RunRecord

    async with Runtime(store=SqliteStore(tmp_path / "r.db")) as rt:
        result = await rt.run(counted, {"x": 2}, session="s1", spec={"import": "m:f"})
        record = await rt.get_run(result.run_id)
        assert record == RunRecord.model_validate(record.model_dump())
        assert (record.session, record.input, record.spec, record.status) == ("s1", {"x": 2}, {"import": "m:f"}, "done")
        assert result == type(result).model_validate(result.model_dump())
        with pytest.raises(ValidationError, match="session"):
            await rt.run(counted, {"x": 3}, session=7)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="input"):
            await rt.run(counted, {1: 3})


async def test_an_output_json_cannot_spell_is_still_recorded_and_recording_goes_on(tmp_path):
    class Odd(AtomicFlow):
        async def handle(self, ctx, data):
            return {"k": {(1, 2): 2**70}}

    async with Runtime(store=SqliteStore(tmp_path / "r.db")) as rt:
        odd = await rt.run(Odd(name="odd"), {})
        assert odd.output == {"k": {(1, 2): 2**70}}  # in process, the value itself
        after = await rt.run(counted, {"x": 4})
        assert list((await rt.get_run(odd.run_id)).output["k"].values()) == [2**70]  # its key spelled as text
        assert [s.status for s in await rt.store.spans(after.run_id)] == ["ok"]


class Caller(CompositeFlow):
    """Calls the subflow `to` with the data found under `send`, as the test gives it."""

    async def handle(self, ctx, data):
        return await ctx.call("to", ctx.input["send"])


class Point(BaseModel):
    x: int


async def test_calls_in_process_get_outputs_and_errors_whoever_serves_the_address():
    from aiflows.messages import Message

    async with Runtime(store=MemoryStore()) as rt:
        await rt.host(counted, "counted")
        assert await rt.call(Caller(subflows={"to": "counted"}, name="a"), {"send": {"x": 3}}) == {"x": 3}
        # data that is not a dict yet: a pydantic model is dumped, anything else fails the call
        assert await rt.call(Caller(subflows={"to": "counted"}, name="b"), {"send": Point(x=4)}) == {"x": 4}
        with pytest.raises(FlowError, match="must be a dict or a pydantic model"):
            await rt.call(Caller(subflows={"to": "counted"}, name="c"), {"send": [1]})

        # an address nobody serves here: the caller's error names it
        result = await rt.run(Caller(subflows={"to": "ghost"}, name="d"), {"send": {}})
        assert result.status == "failed" and result.error.type == "UnknownAddress" and "'ghost'" in result.error.message

        # a plain handler served on the bus without a way to call it for its output alone
        async def doubled(request: Message) -> Message:
            if request.data["x"] < 0:
                return request.fail(ErrorInfo(address="plain", type="ValueError", message="negative"))
            return request.reply({"x": 2 * request.data["x"]})

        await rt.bus.serve("plain", doubled)
        assert await rt.call(Caller(subflows={"to": "plain"}, name="e"), {"send": {"x": 5}}) == {"x": 10}
        failed = await rt.run(Caller(subflows={"to": "plain"}, name="f"), {"send": {"x": -1}})
        assert (failed.error.type, failed.error.message, failed.error.address) == ("ValueError", "negative", "plain")
