"""Steps in order, with key maps between them: parse a sentence, count its words, report.

python examples/sequential.py "the quick brown fox"
"""

from __future__ import annotations

import sys

from pydantic import BaseModel

from aiflows import AtomicFlow, Sequential, Step, flow


@flow
def tokenize(text: str) -> dict:
    return {"words": text.split()}


class Count(AtomicFlow):
    class Input(BaseModel):
        items: list[str]

    class Output(BaseModel):
        count: int
        longest: str

    async def handle(self, ctx, data):
        return {"count": len(data.items), "longest": max(data.items, key=len, default="")}


@flow
def report(count: int, longest: str) -> dict:
    return {"summary": f"{count} words, the longest is '{longest}'"}


pipeline = Sequential(
    tokenize,
    Step(Count(name="count"), inputs={"items": "words"}),
    report,
    name="word_report",
)


def main(text: str = "the quick brown fox jumps over the lazy dog") -> dict:
    return pipeline.run_sync({"text": text})


if __name__ == "__main__":
    from script_exit import run

    run(lambda: print(main(*sys.argv[1:2])))
