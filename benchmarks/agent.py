"""Overhead per agent turn: an aiflows AgentFlow vs LangGraph's prebuilt ReAct agent, side by side.

    pip install -e ".[bench]" && python benchmarks/agent.py [--turns 10] [--rounds 60] [--batch 5] [--warm-up 30]

Both run with a zero-latency scripted model, so what is timed is the framework. Ours: an `AgentFlow`
whose planner, executor, verifier and generator are `LLMModule`s over an in-process backend that
answers at once (prompts rendered, answers parsed, every call a flow call through the runtime with
its journal and trace in a SQLite store, as a user gets by default), and a no-op tool flow. A turn is
plan, execute the tool, verify. LangGraph: `create_react_agent` with a fake chat model that asks for
one no-op tool call per step. Each agent is built once and run many times, as a user runs one.
Per-turn cost is the slope between a run of `--turns` turns and a run of one turn (what is spent once
per query, analysis and answer, cancels out), each the median of the runs of `--rounds` interleaved
rounds after `--warm-up` untimed runs of each. Each framework runs in a process of its own, and in a
round the parent asks each in turn for `--batch` timed runs of a kind back to back, so neither is timed
among the other's leftovers (threads, caches, heap), and a run is timed in a process that is running,
as a served agent is, not one just woken from waiting on the other side: on a loaded machine a short
run right after a wake-up took up to three times its steady time (the first of a batch still is). Wall
time is the result; the process's CPU time (all threads) is reported beside it, the figure to judge
a run on a shared, loaded machine by.
Also reports the planner's prompt size at turns 1, 5 and 10 with a tool that returns 5000 characters of
words each turn (about 1000 tokens, counted as words and punctuation marks): memory keeps 400 characters
of each result, so the prompt grows by a bounded amount per turn (about 100 tokens, not 1000).
Ends with one RESULT line.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout, not another installed copy

from pydantic import BaseModel

from agents import AgentFlow, LLMModule, PlannerFlow
from agents.tools import ToolFlow, ToolResult
from aiflows import Runtime, SqliteStore
from aiflows.llm import Chunk, Completion, Request, Usage

_TOKEN = re.compile(r"\w+|[^\w\s]")
WARM_UP = 30  # untimed runs of each kind before the first timed one (--warm-up)


def tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


class Scripted:
    """A backend that answers at once: the planner always picks `noop`, the verifier always continues.

    Its answers are made once, as LangGraph's fake model holds its messages ready: a call costs the
    model no more than choosing one (counting tokens aside)."""

    model = "scripted"
    _ANSWERS = (
        ("Choose the single next step", "Justification: go on\nContext: none\nSub-Goal: wait\nTool Name: noop"),
        ("Write the tool call", '{"command": {"query": "x"}}'),
        ("Does the memory hold", "Conclusion: CONTINUE"),
        ("answer the query", "<answer>done</answer>"),
    )

    def __init__(self, count: bool = False) -> None:
        self.count = count  # count prompt tokens (off while timing: counting is the model's cost, not ours)
        self.planner_prompts: list[int] = []
        self.ready = {text: self.answer(text, 0) for _, text in self._ANSWERS}
        self.analysis = self.answer("An analysis.", 0)

    def answer(self, text: str, prompt_tokens: int) -> Completion:
        return Completion(completions=[text], usage=Usage(prompt_tokens=prompt_tokens, calls=1), model=self.model)

    async def complete(self, request: Request) -> Completion:
        prompt = request.messages[-1].content
        for marker, text in self._ANSWERS:
            if marker in prompt:
                if not self.count:
                    return self.ready[text]
                if marker == "Choose the single next step":
                    self.planner_prompts.append(tokens(prompt))
                return self.answer(text, tokens(prompt))
        return self.answer("An analysis.", tokens(prompt)) if self.count else self.analysis

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        done = await self.complete(request)
        yield Chunk(delta=done.content)


class Noop(ToolFlow):
    """Does nothing (or returns `size` characters of words)."""

    class Input(BaseModel):
        query: str

    def __init__(self, size: int = 0) -> None:
        super().__init__(name="noop")
        self.size = size

    async def run_tool(self, ctx: Any, data: Input) -> ToolResult:
        return ToolResult(result=("word " * (self.size // 5 + 1))[: self.size] or "ok")


def our_agent(backend: Scripted, turns: int, size: int = 0) -> AgentFlow:
    modules = {role: LLMModule(name=role, backend=backend) for role in ("executor", "verifier", "generator")}
    planner = PlannerFlow(name="planner", backend=backend)
    return AgentFlow(planner=planner, **modules, tools=[Noop(size)], max_steps=turns, max_result_chars=400)


async def ours(turns: int, home: Path) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]], Any]:
    backend = Scripted()
    rt = Runtime(store=SqliteStore(home / "agent.db"))
    await rt.open()
    many, one = our_agent(backend, turns), our_agent(backend, 1)
    many.name, one.name = "many", "one"

    async def run(flow: AgentFlow) -> None:
        (await rt.run(flow, {"query": "go"})).unwrap()

    return (lambda: run(many)), (lambda: run(one)), rt


def langgraph(turns: int) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]:
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage
    from langchain_core.tools import tool
    from langgraph.prebuilt import create_react_agent

    # The prebuilt agent the comparison names; LangGraph 1.x points to langchain's successor of it.
    warnings.filterwarnings("ignore", message="create_react_agent has been moved")

    @tool
    def noop(query: str) -> str:
        """Does nothing."""
        return "ok"

    class Fake(FakeMessagesListChatModel):
        def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
            return self

    def script(calls: int) -> list[AIMessage]:
        asks = [
            AIMessage(content="", tool_calls=[{"name": "noop", "args": {"query": "x"}, "id": f"c{i}"}])
            for i in range(calls)
        ]
        return [*asks, AIMessage(content="done")]

    def runner(calls: int) -> Callable[[], Awaitable[Any]]:
        # Built once and invoked per run, as a user runs an agent (ours too): a run uses up the fake
        # model's script, which then starts again from its first message.
        agent = create_react_agent(Fake(responses=script(calls)), [noop])

        async def run() -> None:
            await agent.ainvoke({"messages": [("user", "go")]}, {"recursion_limit": 4 * calls + 10})

        return run

    return runner(turns), runner(1)


async def timed(fn: Callable[[], Awaitable[Any]]) -> tuple[float, float]:
    """Seconds of one run: wall clock, and CPU time of the whole process (every thread)."""
    start, cpu = time.perf_counter(), time.process_time()
    await fn()
    return time.perf_counter() - start, time.process_time() - cpu


async def prompt_growth(home: Path) -> dict[int, int]:
    backend = Scripted(count=True)
    async with Runtime(store=SqliteStore(home / "growth.db")) as rt:
        (await rt.run(our_agent(backend, 10, size=5000), {"query": "go"})).unwrap()
    return {turn: backend.planner_prompts[turn - 1] for turn in (1, 5, 10)}


async def serve_side(side: str, turns: int, warm_up: int) -> None:
    """Child process: build one side, warm it up, then per line read ("many 5") time that many runs of
    that kind back to back and print their times on one line."""
    with tempfile.TemporaryDirectory() as tmp:
        rt = None
        if side == "ours":
            many, one, rt = await ours(turns, Path(tmp))
        else:
            many, one = langgraph(turns)
        runs = {"many": many, "one": one}
        for _ in range(warm_up):  # imports, first builds, caches: what a long-running process has done
            for fn in runs.values():
                await fn()
        print("ready", flush=True)
        for line in sys.stdin:
            kind, count = line.split()
            times = [await timed(runs[kind]) for _ in range(int(count))]
            print(" ".join(f"{wall} {cpu}" for wall, cpu in times), flush=True)
        if rt is not None:
            await rt.close()


class Side:
    """A child process running one framework; `run(kind, batch)` returns the seconds of `batch` timed runs."""

    def __init__(self, side: str, turns: int, warm_up: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--side", side, "--turns", str(turns), "--warm-up", str(warm_up)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        if self.stdout.readline().strip() != "ready":
            raise SystemExit(f"the {side} side did not start (exit {self.proc.wait()})")

    def run(self, kind: str, batch: int) -> list[tuple[float, float]]:
        self.stdin.write(f"{kind} {batch}\n")
        self.stdin.flush()
        values = [float(v) for v in self.stdout.readline().split()]
        return list(zip(values[::2], values[1::2], strict=True))

    def close(self) -> None:
        self.stdin.close()
        self.proc.wait()


def per_turn(many: list[float], one: list[float], turns: int) -> float:
    """Microseconds per turn: the slope between the median run of `turns` turns and of one turn."""
    return (statistics.median(many) - statistics.median(one)) / (turns - 1) * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description="per-turn agent overhead: aiflows vs LangGraph")
    parser.add_argument("--turns", type=int, default=10, help="turns of the long run")
    parser.add_argument("--rounds", type=int, default=60, help="timed rounds (the median run of each kind counts)")
    parser.add_argument("--batch", type=int, default=5, help="runs of a kind back to back in a round")
    parser.add_argument("--warm-up", type=int, default=WARM_UP, help="untimed runs of each kind first")
    parser.add_argument("--side", choices=("ours", "langgraph"), help=argparse.SUPPRESS)  # a child process
    args = parser.parse_args()
    if args.side:
        await serve_side(args.side, args.turns, args.warm_up)
        return
    sides = {side: Side(side, args.turns, args.warm_up) for side in ("ours", "langgraph")}
    runs: dict[str, list[tuple[float, float]]] = {"many": [], "one": [], "lg_many": [], "lg_one": []}
    for _ in range(args.rounds):  # interleaved, so a burst of load on a shared machine hits both
        for key, side, kind in (
            ("many", "ours", "many"),
            ("one", "ours", "one"),
            ("lg_many", "langgraph", "many"),
            ("lg_one", "langgraph", "one"),
        ):
            runs[key].extend(sides[side].run(kind, args.batch))
    for child in sides.values():
        child.close()
    with tempfile.TemporaryDirectory() as tmp:
        growth = await prompt_growth(Path(tmp))
    wall = {key: [w for w, _ in times] for key, times in runs.items()}
    cpu = {key: [c for _, c in times] for key, times in runs.items()}
    turn_us = per_turn(wall["many"], wall["one"], args.turns)
    langgraph_us = per_turn(wall["lg_many"], wall["lg_one"], args.turns)
    turn_cpu = per_turn(cpu["many"], cpu["one"], args.turns)
    langgraph_cpu = per_turn(cpu["lg_many"], cpu["lg_one"], args.turns)
    print(f"aiflows AgentFlow: {turn_us:.0f} us per turn (plan, execute a no-op tool, verify); CPU {turn_cpu:.0f} us")
    print(f"LangGraph create_react_agent: {langgraph_us:.0f} us per tool call; CPU {langgraph_cpu:.0f} us")
    print(f"planner prompt tokens at turns 1, 5, 10 (5000-character results, 400 kept): {growth}")
    print(
        f"RESULT turn_us={turn_us:.0f} langgraph_turn_us={langgraph_us:.0f} "
        f"ratio_vs_langgraph={langgraph_us / turn_us:.2f} turn_cpu_us={turn_cpu:.0f} "
        f"langgraph_turn_cpu_us={langgraph_cpu:.0f} ratio_cpu={langgraph_cpu / turn_cpu:.2f} "
        f"prompt_tokens_t1={growth[1]} prompt_tokens_t5={growth[5]} prompt_tokens_t10={growth[10]}"
    )


if __name__ == "__main__":
    asyncio.run(main())
