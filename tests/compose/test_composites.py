"""Sequential, Loop, Branch, Parallel and Map: behaviour, key maps, bounds and bad set-ups."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from aiflows import (
    AtomicFlow,
    Branch,
    ConfigError,
    FlowError,
    Loop,
    Map,
    MemoryStore,
    Parallel,
    Runtime,
    Sequential,
    Step,
    flow,
)


@flow
def double(x: int) -> dict:
    return {"x": x * 2}


@flow
def add(a: int, b: int) -> int:
    return a + b


class Solve(AtomicFlow):
    class Input(BaseModel):
        question: str
        hints: list[str] = []

    class Output(BaseModel):
        answer: str

    async def handle(self, ctx, data):
        return {"answer": f"{data.question}?{len(data.hints)}"}


async def run(flow, data):
    async with Runtime(store=MemoryStore()) as rt:
        return await flow.run(data, runtime=rt)


async def test_sequential_merges_outputs_and_maps_keys_both_ways():
    seq = Sequential(
        double,
        Step(Solve(), inputs={"question": "task.text", "hints": "task.hints"}, outputs={"solution.text": "answer"}),
        name="seq",
    )
    out = await run(seq, {"x": 2, "task": {"text": "why", "hints": ["a", "b"]}})
    assert out == {"x": 4, "task": {"text": "why", "hints": ["a", "b"]}, "solution": {"text": "why?2"}}


def test_sequential_checks_input_maps_against_the_subflow_schema():
    with pytest.raises(ConfigError, match=r"needs \['question'\]"):
        Sequential(Step(Solve(), inputs={"hints": "h"}), name="s")
    with pytest.raises(ConfigError, match=r"maps to \['questoin'\], which Solve.Input does not have"):
        Sequential(Step(Solve(), inputs={"question": "q", "questoin": "q"}), name="s")
    with pytest.raises(ConfigError, match=r"reads \['answr'\] from the output of Solve.Output, which has only answer"):
        Sequential(Step(Solve(), outputs={"a": "answr"}), name="s")
    with pytest.raises(ConfigError, match="has no steps"):
        Sequential(name="empty")


async def test_sequential_gives_duplicate_steps_distinct_names():
    seq = Sequential(double, double, double, name="triple")
    assert list(seq.subflows) == ["double", "double_1", "double_2"]
    assert await run(seq, {"x": 1}) == {"x": 8}


async def test_missing_mapped_key_names_the_key():
    seq = Sequential(Step(Solve(), inputs={"question": "nope.deep"}), name="s")
    with pytest.raises(FlowError, match="no key 'nope.deep'"):
        await run(seq, {"x": 1})


async def test_loop_stops_on_its_condition_or_its_bound():
    assert await run(Loop(double, until=lambda d: d["x"] >= 16, max_rounds=10), {"x": 1}) == {"x": 16}
    assert await run(Loop(double, max_rounds=3), {"x": 1}) == {"x": 8}
    assert await run(Loop(double, until={"key": "x", "equals": 4}, max_rounds=9), {"x": 1}) == {"x": 4}


def test_a_loop_without_a_bound_is_refused():
    with pytest.raises(ConfigError, match="Loop 'forever' has no bound"):
        Loop(double, until="done", name="forever")
    with pytest.raises(ConfigError, match="positive integer"):
        Loop(double, max_rounds=0)


async def test_branch_routes_by_key_function_or_router_flow():
    branches = {"d": double, "a": add}
    assert await run(Branch("kind", branches), {"kind": "d", "x": 3}) == {"x": 6}
    assert await run(Branch(lambda d: "a" if "a" in d else "d", branches), {"a": 1, "b": 2}) == {"result": 3}

    @flow
    def router(x: int) -> dict:
        return {"branch": "d" if x < 10 else "a"}

    assert await run(Branch(router, branches, name="r"), {"x": 4}) == {"x": 8}


async def test_branch_with_an_unknown_choice_names_the_choices():
    with pytest.raises(FlowError, match=r"router chose 'zzz', which is not a branch \(branches: d, a\)") as err:
        await run(Branch("kind", {"d": double, "a": add}, name="b"), {"kind": "zzz"})
    assert err.value.type == "UnknownBranch" and err.value.address == "b"
    assert await run(Branch("kind", {"d": double}, default="d"), {"kind": "zzz", "x": 1}) == {"x": 2}
    with pytest.raises(ConfigError, match="default 'q' is not one of"):
        Branch("kind", {"d": double}, default="q")


async def test_parallel_fans_out_with_a_concurrency_limit_and_gathers_in_order():
    running = 0
    peak = 0

    @flow
    async def slow(i: int) -> dict:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return {"i": i}

    out = await run(Map(slow, over="items", item_key="i", max_concurrency=3), {"items": list(range(10))})
    assert out == {"results": [{"i": i} for i in range(10)]}
    assert peak == 3

    out = await run(Parallel({"one": double, "two": Step(add, outputs={"sum": "result"})}), {"x": 1, "a": 1, "b": 2})
    assert out == {"one": {"x": 2}, "two": {"sum": 3}}


async def test_a_failing_branch_cancels_its_siblings_and_reaches_the_caller():
    cancelled = []

    @flow
    async def sleeper() -> dict:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return {}

    @flow
    async def crash() -> dict:
        await asyncio.sleep(0.01)
        raise ValueError("branch failed")

    with pytest.raises(FlowError, match="branch failed") as err:
        await run(Parallel({"s": sleeper, "c": crash}, name="p"), {})
    assert err.value.address == "p/c" and err.value.type == "ValueError"
    assert cancelled == [True]


async def test_map_rejects_a_non_list():
    with pytest.raises(FlowError, match="expects a list at 'items'"):
        await run(Map(double), {"items": 3})


async def test_composites_nest_and_can_be_served_at_any_address():
    inner = Sequential(double, double, name="inner")
    outer = Loop(Sequential(inner, double, name="body"), max_rounds=2, name="outer")
    async with Runtime(store=MemoryStore()) as rt:
        address = await rt.host(outer, "team/outer")
        assert address == "team/outer"
        assert await rt.call("team/outer", {"x": 1}) == {"x": 64}
        assert await rt.call("team/outer/body/inner", {"x": 1}) == {"x": 4}
