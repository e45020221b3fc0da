"""Fan out and gather: score a text three ways at once, and map one flow over many items.

python examples/parallel.py
"""

from __future__ import annotations

import asyncio

from aiflows import Map, Parallel, Sequential, Step, flow


@flow
async def length(text: str) -> dict:
    await asyncio.sleep(0.01)  # stands in for I/O: the three branches wait together
    return {"score": len(text)}


@flow
async def vowels(text: str) -> dict:
    await asyncio.sleep(0.01)
    return {"score": sum(c in "aeiou" for c in text.lower())}


@flow
async def words(text: str) -> dict:
    await asyncio.sleep(0.01)
    return {"score": len(text.split())}


scores = Parallel({"length": length, "vowels": vowels, "words": words}, max_concurrency=3, name="scores")

batch = Sequential(
    Step(Map(scores, over="texts", into="results", item_key="text", max_concurrency=4, name="each")),
    name="batch",
)


def main() -> dict:
    single = scores.run_sync({"text": "Flows compose"})
    many = batch.run_sync({"texts": ["a b c", "hello world", "aiflows"]})
    return {"single": single, "many": many["results"]}


if __name__ == "__main__":
    from script_exit import run

    run(lambda: print(main()))
