"""Defining flows: schemas, config, state, function flows, typed errors, timeouts, cancellation."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from aiflows import (
    AtomicFlow,
    CompositeFlow,
    ConfigError,
    FlowError,
    FlowTimeout,
    MemoryStore,
    Runtime,
    flow,
)


class Greet(AtomicFlow):
    class Input(BaseModel):
        name: str

    class Output(BaseModel):
        text: str

    class State(BaseModel):
        count: int = 0

    class Config(BaseModel):
        greeting: str = "Hello"

    async def handle(self, ctx, data):
        ctx.state.count += 1
        return {"text": f"{self.config.greeting} {data.name} #{ctx.state.count}"}


def runtime() -> Runtime:
    return Runtime(store=MemoryStore())


async def test_atomic_flow_with_config_and_state_per_session():
    greet = Greet(name="greet", config={"greeting": "Hi"})
    async with runtime() as rt:
        assert (await greet.run({"name": "Ada"}, session="a", runtime=rt)) == {"text": "Hi Ada #1"}
        assert (await greet.run({"name": "Ada"}, session="a", runtime=rt)) == {"text": "Hi Ada #2"}
        assert (await greet.run({"name": "Bo"}, session="b", runtime=rt)) == {"text": "Hi Bo #1"}


def test_state_survives_processes_through_the_default_sqlite_store():
    greet = Greet()
    assert greet.run_sync({"name": "Ada"}, session="s") == {"text": "Hello Ada #1"}
    assert Greet().run_sync({"name": "Ada"}, session="s") == {"text": "Hello Ada #2"}


async def test_two_instances_of_one_class_have_separate_state():
    class Pair(CompositeFlow):
        async def handle(self, ctx, data):
            await ctx.call("left", {"name": "x"})
            await ctx.call("left", {"name": "x"})
            return {"right": (await ctx.call("right", {"name": "x"}))["text"]}

    pair = Pair(subflows={"left": Greet(), "right": Greet()})
    async with runtime() as rt:
        assert await pair.run({}, runtime=rt) == {"right": "Hello x #1"}
        assert await rt.store.load_state("Pair/left", "default") == {"count": 2}
        assert await rt.store.load_state("Pair/right", "default") == {"count": 1}


async def test_a_failed_handler_does_not_save_state():
    class Fragile(AtomicFlow):
        class State(BaseModel):
            n: int = 0

        async def handle(self, ctx, data):
            ctx.state.n += 1
            if data.fail:
                raise ValueError("boom")
            return {"n": ctx.state.n}

    fragile = Fragile()
    async with runtime() as rt:
        assert await fragile.run({"fail": False}, runtime=rt) == {"n": 1}
        with pytest.raises(FlowError):
            await fragile.run({"fail": True}, runtime=rt)
        assert await fragile.run({"fail": False}, runtime=rt) == {"n": 2}


def test_bad_config_names_the_flow_and_the_field():
    with pytest.raises(ConfigError, match=r"config of flow 'g'.*greeting"):
        Greet(name="g", config={"greeting": 3})
    with pytest.raises(ConfigError, match="takes no config"):
        AtomicFlow(config={"x": 1})
    with pytest.raises(ConfigError, match="contain no '/'"):
        Greet(name="a/b")


async def test_input_and_output_schema_violations_are_typed_errors():
    class Liar(AtomicFlow):
        class Output(BaseModel):
            n: int

        async def handle(self, ctx, data):
            return {"n": "not a number"}

    async with runtime() as rt:
        with pytest.raises(FlowError) as err:
            await Greet().run({"nme": "x"}, runtime=rt)
        assert err.value.type == "SchemaError" and err.value.address == "Greet"
        assert "name: Field required" in err.value.message
        with pytest.raises(FlowError, match="output does not fit") as err:
            await Liar().run({}, runtime=rt)
        assert err.value.type == "SchemaError"


async def test_handler_exception_reaches_the_caller_with_address_type_and_run_id():
    class Leaf(AtomicFlow):
        async def handle(self, ctx, data):
            raise KeyError("missing thing")

    class Top(CompositeFlow):
        async def handle(self, ctx, data):
            return await self.call("leaf", {})

    async with runtime() as rt:
        result = await rt.run(Top(subflows={"leaf": Leaf()}), {})
    assert result.status == "failed"
    assert result.error.address == "Top/leaf"
    assert result.error.type == "KeyError"
    assert result.error.run_id == result.run_id
    assert "missing thing" in result.error.message


async def test_a_caller_can_catch_a_subflow_error_and_continue():
    @flow
    def fails() -> dict:
        raise RuntimeError("nope")

    class Tolerant(CompositeFlow):
        async def handle(self, ctx, data):
            try:
                await self.call("fails", {})
            except FlowError as exc:
                return {"caught": exc.type}

    assert await Tolerant(subflows={"fails": fails}).run({}, runtime=None) == {"caught": "RuntimeError"}


class Point(BaseModel):
    x: int
    y: int


async def test_function_flows_sync_async_context_and_models():
    @flow
    def add(a: int, b: int = 10) -> int:
        return a + b

    @flow(name="mover")
    async def move(p: Point, dx: int, ctx) -> Point:
        assert ctx.address == "mover"
        return Point(x=p.x + dx, y=p.y)

    @flow(blocking=True)
    def slow_square(n: int) -> dict:
        return {"n": n * n}

    async with runtime() as rt:
        assert await add.run({"a": 1}, runtime=rt) == {"result": 11}
        assert await move.run({"p": {"x": 1, "y": 2}, "dx": 3}, runtime=rt) == {"x": 4, "y": 2}
        assert await slow_square.run({"n": 7}, runtime=rt) == {"n": 49}
        with pytest.raises(FlowError, match="a: Input should be a valid integer"):
            await add.run({"a": "x"}, runtime=rt)
    with pytest.raises(ConfigError, match=r"\*args"):
        flow(lambda *a: a)


async def test_unknown_subflow_name_is_a_clear_error():
    class Lost(CompositeFlow):
        async def handle(self, ctx, data):
            return await self.call("nowhere", {})

    with pytest.raises(FlowError, match="has no subflow 'nowhere' \\(its subflows: real\\)"):
        await Lost(subflows={"real": Greet()}).run({})


async def test_timeout_is_a_typed_error_and_the_rest_of_the_run_keeps_its_state():
    class Hang(AtomicFlow):
        async def handle(self, ctx, data):
            await asyncio.sleep(3600)

    class Top(CompositeFlow):
        async def handle(self, ctx, data):
            first = await self.call("greet", {"name": "a"})
            try:
                await self.call("hang", {})
            except FlowTimeout as exc:
                return {"first": first["text"], "timeout": exc.message, "who": exc.address}

    async with runtime() as rt:
        out = await Top(subflows={"greet": Greet(), "hang": Hang(timeout=0.05)}).run({}, runtime=rt)
        assert out == {"first": "Hello a #1", "timeout": "no answer within its time limit of 0.05 s", "who": "Top/hang"}
        assert await rt.store.load_state("Top/greet", "default") == {"count": 1}


async def test_cancellation_propagates_down_the_tree_and_leaves_no_orphan_tasks():
    cancelled: list[str] = []

    class Sleeper(AtomicFlow):
        async def handle(self, ctx, data):
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancelled.append(ctx.address)
                raise

    from aiflows import Parallel

    fan = Parallel({"a": Sleeper(), "b": Sleeper()}, name="fan")
    before = len(asyncio.all_tasks())
    async with runtime() as rt:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await fan.run({}, runtime=rt)
    assert sorted(cancelled) == ["fan/a", "fan/b"]
    assert len(asyncio.all_tasks()) == before


async def test_events_reach_the_caller_while_the_flow_runs():
    class Streamer(AtomicFlow):
        async def handle(self, ctx, data):
            for word in ["a", "b", "c"]:
                ctx.emit("token", {"text": word})
            return {"done": True}

    seen: list[str] = []
    await Streamer().run({}, on_event=lambda ev: seen.append(ev.data["text"]))
    assert seen == ["a", "b", "c"]


def test_calling_outside_a_handler_is_a_clear_error():
    with pytest.raises(RuntimeError, match="no flow is running here"):
        CompositeFlow().call("x", {})


def test_runtime_lifecycle_is_explicit():
    async def go():
        rt = Runtime(store=MemoryStore())
        with pytest.raises(RuntimeError, match="inside `async with Runtime"):
            await rt.call("x", {})
        async with rt:
            pass
        with pytest.raises(RuntimeError, match="opened once"):
            await rt.open()

    asyncio.run(go())


def test_json_dump_is_model_dump_in_json_mode() -> None:
    from pydantic import ConfigDict

    from aiflows.flow import json_dump

    class Inner(BaseModel):
        when: float = float("inf")
        pair: tuple[int, int] = (1, 2)

    class Outer(BaseModel):
        model_config = ConfigDict(extra="allow")

        inner: Inner = Inner()
        items: list[Inner | str] = ["a", Inner()]
        keys: dict[int, bytes] = {1: b"x"}

    model = Outer(more={"a": (1, 2)})
    assert json_dump(model) == model.model_dump(mode="json")
