"""Per-hop framework overhead: aiflows vs LangGraph vs autogen-core, side by side in one run.

    pip install -e ".[bench]" && python benchmarks/overhead.py [--steps 1000] [--rounds 9]

Chain: 1000 no-op steps (our Sequential; LangGraph's 1000-node StateGraph; autogen-core's
1000 agents each calling the next with send_message). Fan-out: 1000 no-op branches (our
Parallel; LangGraph's Send; autogen-core's concurrent sends). aiflows runs with the defaults a
user gets: journal and tracing on, SQLite store, so every hop's span and journal entry is
recorded and committed by the store's writer thread within the timed runs (a run's end flushes
what the writer has not written yet). The journal's own cost is reported too ("journal off"
still traces every hop). All contenders share one event loop and take turns: each round times
every one of them once. Prints microseconds per hop (median of the rounds) and ends with one
RESULT line. It measures the aiflows of the checkout it lives in, whatever is installed.
"""

import argparse
import asyncio
import operator
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Annotated, Any, TypedDict

from rich.console import Console
from rich.progress import track
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not another installed copy

from aiflows import AtomicFlow, Parallel, Runtime, Sequential, SqliteStore


class Noop(AtomicFlow):
    async def handle(self, ctx, data):
        return data


Runner = Callable[[], Awaitable[Any]]


async def aiflows_chain(steps: int, home: Path, stack: AsyncExitStack, *, journal: bool = True) -> Runner:
    chain = Sequential(*[Noop(name=f"n{i}") for i in range(steps)], name="chain")
    rt = await stack.enter_async_context(Runtime(store=SqliteStore(home / f"chain-{journal}.db"), journal=journal))
    await rt.host(chain)
    return lambda: rt.run("chain", {"v": 1})


async def aiflows_fanout(width: int, home: Path, stack: AsyncExitStack) -> Runner:
    fan = Parallel([Noop(name=f"b{i}") for i in range(width)], name="fan")
    rt = await stack.enter_async_context(Runtime(store=SqliteStore(home / "fan.db")))
    await rt.host(fan)
    return lambda: rt.run("fan", {"v": 1})


def langgraph_chain(steps: int) -> Runner:
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
    return lambda: app.ainvoke({"v": 1}, config)


def langgraph_fanout(width: int) -> Runner:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    class State(TypedDict):
        results: Annotated[list, operator.add]

    graph = StateGraph(State)
    graph.add_node("branch", lambda s: {"results": [s["i"]]})
    graph.add_conditional_edges(START, lambda s: [Send("branch", {"i": i}) for i in range(width)], ["branch"])
    graph.add_edge("branch", END)
    app = graph.compile()
    return lambda: app.ainvoke({"results": []})


async def autogen_chain(steps: int, stack: AsyncExitStack) -> Runner:
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

    runtime = SingleThreadedAgentRuntime()
    for i in range(steps):
        await Link.register(runtime, f"link{i}", lambda i=i: Link(i))
    runtime.start()
    stack.push_async_callback(runtime.stop)
    return lambda: runtime.send_message(Hop(1), AgentId("link0", "default"))


async def autogen_fanout(width: int, stack: AsyncExitStack) -> Runner:
    from dataclasses import dataclass

    from autogen_core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler

    @dataclass
    class Ping:
        v: int

    class Echo(RoutedAgent):
        @message_handler
        async def on_ping(self, message: Ping, ctx: MessageContext) -> Ping:
            return message

    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", lambda: Echo("echo"))
    runtime.start()
    stack.push_async_callback(runtime.stop)

    async def fan() -> None:
        await asyncio.gather(*(runtime.send_message(Ping(i), AgentId("echo", str(i))) for i in range(width)))

    return fan


async def measure(n: int, rounds: int, home: Path) -> dict[str, float]:
    """Median seconds per run of each contender, timed in turns: every round times each of them once.

    Taking turns spreads a change in the machine's load over all of them alike, so the ratios
    compare runs made under the same conditions.
    """
    async with AsyncExitStack() as stack:
        runners: dict[str, Runner] = {
            "chain": await aiflows_chain(n, home, stack),
            "chain_no_journal": await aiflows_chain(n, home, stack, journal=False),
            "fanout": await aiflows_fanout(n, home, stack),
            "langgraph_chain": langgraph_chain(n),
            "langgraph_fanout": langgraph_fanout(n),
            "autogen_chain": await autogen_chain(n, stack),
            "autogen_fanout": await autogen_fanout(n, stack),
        }
        for run in runners.values():
            await run()  # warm up: hosting, agent creation, first allocations
        times: dict[str, list[float]] = {name: [] for name in runners}
        order = list(runners)
        for index in track(range(rounds), description="rounds"):
            shift = index % len(order)  # rotate, so no contender always follows the same one
            for name in order[shift:] + order[:shift]:
                start = time.perf_counter()
                await runners[name]()
                times[name].append(time.perf_counter() - start)
        return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="chain length and fan-out width")
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds; the median of each is reported")
    args = parser.parse_args()
    n = args.steps
    with tempfile.TemporaryDirectory() as tmp:
        seconds = asyncio.run(measure(n, args.rounds, Path(tmp)))
    us = {name: value / n * 1e6 for name, value in seconds.items()}
    chain, fanout = us["chain"], us["fanout"]
    lg_chain, lg_fanout = us["langgraph_chain"], us["langgraph_fanout"]
    ag_chain, ag_fanout = us["autogen_chain"], us["autogen_fanout"]
    chain_no_journal = us["chain_no_journal"]

    table = Table(title=f"microseconds per hop ({n} steps, median of {args.rounds} rounds)")
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
