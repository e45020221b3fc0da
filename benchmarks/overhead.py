"""Per-hop framework overhead: aiflows vs LangGraph vs autogen-core, side by side in one run.

    pip install -e ".[bench]" && python benchmarks/overhead.py [--steps 1000] [--repeat 5]

Chain: 1000 no-op steps (our Sequential; LangGraph's 1000-node StateGraph; autogen-core's
1000 agents each calling the next with send_message). Fan-out: 1000 no-op branches (our
Parallel; LangGraph's Send; autogen-core's concurrent sends). aiflows runs with the defaults a
user gets: journal and tracing on, SQLite store, so every hop's span and journal entry is
recorded and committed by the store's writer thread within the timed runs (a run's end flushes
what the writer has not written yet). The journal's own cost is reported too ("journal off"
still traces every hop). Prints microseconds per hop (median of repeats) and ends with one
RESULT line. It measures the aiflows of the checkout it lives in, whatever is installed.
"""


import argparse
import asyncio
import operator
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not another installed copy

from aiflows import AtomicFlow, Parallel, Runtime, Sequential, SqliteStore


class Noop(AtomicFlow):
    async def handle(self, ctx, data):
        return data


async def _timed(fn: Any, repeat: int) -> float:
    await fn()  # warm up: hosting, imports, first allocations
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def aiflows_chain(steps: int, repeat: int, home: Path, *, journal: bool = True) -> float:
    chain = Sequential(*[Noop(name=f"n{i}") for i in range(steps)], name="chain")
    async with Runtime(store=SqliteStore(home / f"chain-{journal}.db"), journal=journal) as rt:
        await rt.host(chain)
        return await _timed(lambda: rt.run("chain", {"v": 1}), repeat) / steps


async def aiflows_fanout(width: int, repeat: int, home: Path) -> float:
    fan = Parallel([Noop(name=f"b{i}") for i in range(width)], name="fan")
    async with Runtime(store=SqliteStore(home / "fan.db")) as rt:
        await rt.host(fan)
        return await _timed(lambda: rt.run("fan", {"v": 1}), repeat) / width


def langgraph_chain(steps: int, repeat: int) -> float:
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        v: int

    graph = StateGraph(State)
    for i in range(steps):
        graph.add_node(f"n{i}", lambda s: {"v": s["v"]})
    graph.add_edge(START, "n0")
    for i in range(steps - 1):
        graph.add_edge(f"n{i}", f"n{i + 1}")
    graph.add_edge(f"n{steps - 1}", END)
    app = graph.compile()
    config = {"recursion_limit": steps + 10}

    async def once() -> None:
        await app.ainvoke({"v": 1}, config)

    return asyncio.run(_timed(once, repeat)) / steps


def langgraph_fanout(width: int, repeat: int) -> float:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    class State(TypedDict):
        results: Annotated[list, operator.add]

    graph = StateGraph(State)
    graph.add_node("branch", lambda s: {"results": [s["i"]]})
    graph.add_conditional_edges(START, lambda s: [Send("branch", {"i": i}) for i in range(width)], ["branch"])
    graph.add_edge("branch", END)
    app = graph.compile()

    async def once() -> None:
        await app.ainvoke({"results": []})

    return asyncio.run(_timed(once, repeat)) / width


def autogen_chain(steps: int, repeat: int) -> float:
    from dataclasses import dataclass

    from autogen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler

    @dataclass
    class Hop:
        v: int

    class Link(RoutedAgent):
        def __init__(self, index: int) -> None:
            super().__init__("link")
            self.index = index

        @message_handler
        async def on_hop(self, message: Hop, ctx: MessageContext) -> Hop:
            if self.index + 1 < steps:
                return await self.send_message(message, AgentId(f"link{self.index + 1}", "default"))
            return message

    async def main() -> float:
        runtime = SingleThreadedAgentRuntime()
        for i in range(steps):
            await Link.register(runtime, f"link{i}", lambda i=i: Link(i))
        runtime.start()
        try:
            return await _timed(lambda: runtime.send_message(Hop(1), AgentId("link0", "default")), repeat)
        finally:
            await runtime.stop()

    return asyncio.run(main()) / steps


def autogen_fanout(width: int, repeat: int) -> float:
    from dataclasses import dataclass

    from autogen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler

    @dataclass
    class Ping:
        v: int

    class Echo(RoutedAgent):
        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Ping:
            return message

    async def main() -> float:
        runtime = SingleThreadedAgentRuntime()
        await Echo.register(runtime, "echo", lambda: Echo("echo"))
        runtime.start()

        async def fan() -> None:
            await asyncio.gather(*(runtime.send_message(Ping(i), AgentId("echo", str(i))) for i in range(width)))

        try:
            return await _timed(fan, repeat)
        finally:
            await runtime.stop()

    return asyncio.run(main()) / width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="chain length and fan-out width")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (median is reported)")
    args = parser.parse_args()
    n, r = args.steps, args.repeat
    us = 1e6
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        chain = asyncio.run(aiflows_chain(n, r, home)) * us
        chain_no_journal = asyncio.run(aiflows_chain(n, r, home, journal=False)) * us
        fanout = asyncio.run(aiflows_fanout(n, r, home)) * us
    lg_chain = langgraph_chain(n, r) * us
    lg_fanout = langgraph_fanout(n, r) * us
    ag_chain = autogen_chain(n, r) * us
    ag_fanout = autogen_fanout(n, r) * us

    table = Table(title=f"microseconds per hop ({n} steps, median of {r})")
    for column in ("", "aiflows", "LangGraph", "autogen-core"):
        table.add_column(column, justify="right")
    table.add_row("chain", f"{chain:.1f}", f"{lg_chain:.1f}", f"{ag_chain:.1f}")
    table.add_row("fan-out", f"{fanout:.1f}", f"{lg_fanout:.1f}", f"{ag_fanout:.1f}")
    table.add_row("chain, journal off", f"{chain_no_journal:.1f}", "", "")
    Console().print(table)
    print(
        f"RESULT chain_us={chain:.1f} langgraph_chain_us={lg_chain:.1f} autogen_chain_us={ag_chain:.1f} "
        f"fanout_us={fanout:.1f} langgraph_fanout_us={lg_fanout:.1f} autogen_fanout_us={ag_fanout:.1f} "
        f"chain_no_journal_us={chain_no_journal:.1f} journal_cost_us={chain - chain_no_journal:.1f} "
        f"ratio_chain_vs_langgraph={lg_chain / chain:.1f} ratio_chain_vs_autogen={ag_chain / chain:.1f} "
        f"ratio_fanout_vs_langgraph={lg_fanout / fanout:.1f} ratio_fanout_vs_autogen={ag_fanout / fanout:.1f}"
    )


if __name__ == "__main__":
    main()
