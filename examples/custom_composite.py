"""A composite written as plain async Python: write, review, and revise until approved.

The handler calls its subflows with `await self.call(...)`; the calls are journaled, so an
interrupted run resumes where it stopped.

    python examples/custom_composite.py
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from aiflows import AtomicFlow, CompositeFlow


class Writer(AtomicFlow):
    class Input(BaseModel):
        topic: str
        feedback: str = ""

    class Output(BaseModel):
        draft: str

    class State(BaseModel):
        drafts: int = 0

    async def handle(self, ctx, data):
        ctx.state.drafts += 1
        draft = f"{data.topic}: draft {ctx.state.drafts}"
        if data.feedback:
            draft += f" (addresses: {data.feedback})"
        return {"draft": draft}


class Reviewer(AtomicFlow):
    class Input(BaseModel):
        draft: str

    class Output(BaseModel):
        approved: bool
        feedback: str

    async def handle(self, ctx, data):
        approved = "draft 3" in data.draft
        return {"approved": approved, "feedback": "" if approved else "needs more detail"}


class WriteReview(CompositeFlow):
    class Input(BaseModel):
        topic: str
        max_rounds: int = 5

    class Output(BaseModel):
        draft: str
        rounds: int

    async def handle(self, ctx, data):
        feedback = ""
        for round_number in range(1, data.max_rounds + 1):  # noqa: B007 (the count is returned)
            draft = (await self.call("writer", {"topic": data.topic, "feedback": feedback}))["draft"]
            review = await self.call("reviewer", {"draft": draft})
            if review["approved"]:
                break
            feedback = review["feedback"]
        return {"draft": draft, "rounds": round_number}


write_review = WriteReview(subflows={"writer": Writer(), "reviewer": Reviewer()}, name="write_review")


def main(topic: str = "durable flows", session: str | None = None) -> dict:
    # The writer's draft counter is its state for this session: a new session starts at draft 1.
    return write_review.run_sync({"topic": topic}, session=session or f"example-{uuid.uuid4().hex[:8]}")


if __name__ == "__main__":
    from script_exit import run

    run(lambda: print(main()))
