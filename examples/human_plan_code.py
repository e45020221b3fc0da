"""A person plans, the AI codes, the judge checks, the person edits: Plan-Oracle with a human oracle.

In the Flows study the largest gains came from human-AI flows where a person supplies the plan.
This session asks you for a plan, has a chat model write the program from it, runs the program
on the problem's public samples in the sandboxed judge, and shows you the judge's feedback with
the code, which you may keep or edit. Edited code is judged again; up to `max_rounds` rounds.

    export AIFLOWS_MODEL=openai/gpt-4o-mini          # any litellm model (AIFLOWS_API_BASE for a local server)
    python examples/human_plan_code.py ../shared/data/cc/kattis-examples/different

The questions wait in the run store, so you can also answer them elsewhere while the script
waits, e.g. from the web page (`aiflows ui`) or another terminal (`aiflows human`).
"""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aiflows import AtomicFlow, CompositeFlow, Runtime
from aiflows.human import HumanDesk, HumanFlow
from aiflows.llm import ChatFlow

HERE = Path(__file__).resolve().parent

CODER_SYSTEM = (
    "You are an expert competitive programmer. Follow the plan you are given. "
    "Answer with one complete Python 3 program that reads standard input and writes standard output, "
    "in a single ```python block."
)
CODER_FIRST = "Problem:\n{{ problem }}\n\nPlan:\n{{ plan }}\n\nWrite the program."
CODER_LATER = "The program failed on the public samples:\n{{ feedback }}\n\nFix it. Answer with the whole program."

_BLOCK = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)```", re.DOTALL)


def first_code_block(text: str) -> str:
    """The first fenced code block of a model's answer (the whole answer when it has none)."""
    match = _BLOCK.search(text)
    return (match.group(1) if match else text).strip() + "\n"


class JudgeSamples(AtomicFlow):
    """Run a Python program on a problem package's public samples in the sandboxed judge."""

    class Input(BaseModel):
        problem_dir: str
        code: str

    class Output(BaseModel):
        verdict: str
        accepted: bool
        feedback: str

    async def handle(self, ctx: Any, data: Any) -> dict:
        from aiflows.judge import judge_async
        from aiflows.problems.kattis import load_package

        problem = load_package(data.problem_dir)
        judgement = await judge_async(problem, data.code, "python", samples_only=True)
        return {"verdict": str(judgement.verdict), "accepted": judgement.accepted, "feedback": judgement.to_prompt()}


class PlanOracleCode(CompositeFlow):
    """The Plan-Oracle session: a person's plan, the model's code, the judge's word, the person's edit."""

    class Input(BaseModel):
        problem_dir: str
        max_rounds: int = 3

    class Output(BaseModel):
        plan: str
        code: str
        verdict: str
        accepted: bool
        rounds: int

    async def handle(self, ctx: Any, data: Any) -> dict:
        from aiflows.problems.kattis import load_package

        statement = load_package(data.problem_dir).statement
        plan = (await self.call("planner", {"problem": statement}))["answer"]
        feedback, rounds = "", 0
        for rounds in range(1, data.max_rounds + 1):  # noqa: B007 (the count is returned)
            coded = await self.call("coder", {"problem": statement, "plan": plan, "feedback": feedback})
            code = first_code_block(coded["content"])
            verdict = await self.call("judge", {"problem_dir": data.problem_dir, "code": code})
            review = await self.call(
                "reviewer", {"problem": statement, "plan": plan, "judge": verdict["feedback"], "proposed": code}
            )
            if review["edited"]:
                code = review["answer"]
                verdict = await self.call("judge", {"problem_dir": data.problem_dir, "code": code})
            if verdict["accepted"]:
                break
            feedback = verdict["feedback"]
        return {
            "plan": plan,
            "code": code,
            "verdict": verdict["verdict"],
            "accepted": verdict["accepted"],
            "rounds": rounds,
        }


def build() -> PlanOracleCode:
    """The session's flows. The model comes from AIFLOWS_MODEL (and AIFLOWS_API_BASE), read when built."""
    return PlanOracleCode(
        name="plan_oracle_code",
        subflows={
            "planner": HumanFlow(
                config={
                    "question": "Write a plan for this problem: the steps and the algorithm the program should follow.",
                }
            ),
            "coder": ChatFlow(
                config={
                    "system_prompt": CODER_SYSTEM,
                    "first_prompt": CODER_FIRST,
                    "later_prompt": CODER_LATER,
                    "temperature": 0,
                }
            ),
            "judge": JudgeSamples(),
            "reviewer": HumanFlow(
                config={
                    "question": "The judge ran the code on the public samples. Keep the code, or edit it (edited code is judged again).",
                    "kind": "edit",
                    "context_keys": ["judge", "plan"],
                    "syntax": {"proposed": "python"},
                }
            ),
        },
    )


app = build()


async def session(problem_dir: str, *, session_id: str, max_rounds: int, name: str) -> dict:
    """Run the session, answering its questions in this terminal; return the run's output."""
    from aiflows.human.terminal import TerminalChannel

    spec = {"import": "human_plan_code:app", "cwd": str(HERE)}  # lets `aiflows human`/`ui` resume it too
    async with Runtime() as rt:
        result = await rt.run(
            app, {"problem_dir": problem_dir, "max_rounds": max_rounds}, session=session_id, spec=spec
        )
        desk = HumanDesk(rt)
        channel = TerminalChannel(desk, name=name)  # answers, then resumes the run in this process
        record = await rt.get_run(result.run_id)
        while record.status == "suspended":
            waiting = [r for r in await desk.pending(session_id) if r.run_id == record.run_id]
            if not waiting:
                await desk.resume_due()  # answered elsewhere: resume it here unless a resumer there did
                await asyncio.sleep(0.2)
            elif not await channel.answer_one(waiting[0]):
                return {"run_id": record.run_id, "status": "suspended"}  # input ended: answer later
            record = await rt.get_run(record.run_id)
        if record.error is not None:
            raise record.error.to_exception()
        return record.output or {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "problem_dir", help="an ICPC/Kattis problem package (e.g. ../shared/data/cc/kattis-examples/different)"
    )
    parser.add_argument("--session", default="plan-oracle", help="the session the questions belong to")
    parser.add_argument("--rounds", type=int, default=3, help="code-judge-edit rounds at most")
    parser.add_argument("--name", default="you", help="who answers, recorded with each answer")
    args = parser.parse_args(argv)
    output = asyncio.run(session(args.problem_dir, session_id=args.session, max_rounds=args.rounds, name=args.name))
    print(output)
    return 0 if output.get("accepted") else 1


if __name__ == "__main__":
    from script_exit import run  # one line, no traceback, on Ctrl-C (pressed once or more) or a missing key

    run(main, interrupted="interrupted: the run is kept; answer its questions later with `aiflows human`")
