"""Flows the human tests run in other processes: importable by `module:attr` from this folder."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from aiflows import CompositeFlow, flow
from aiflows.human import HumanFlow


@flow
def coder(plan: str, problem: str) -> dict:
    """A deterministic coder: the code says which plan it follows."""
    body = "\n".join(f"# {line}" for line in plan.splitlines()) or "# (no plan)"
    return {"code": f"{body}\nprint(sum(map(int, input().split())))\n"}


class PlanCode(CompositeFlow):
    """The person plans, the coder codes, the person edits the code, the person approves it."""

    class Input(BaseModel):
        problem: str

    class Output(BaseModel):
        plan: str
        code: str
        approved: bool
        comment: str

    async def handle(self, ctx: Any, data: Any) -> dict:
        plan = await self.call("planner", {"problem": data.problem})
        code = await self.call("coder", {"plan": plan["answer"], "problem": data.problem})
        edited = await self.call("editor", {"problem": data.problem, "proposed": code["code"]})
        gate = await self.call("gate", {"code": edited["answer"]})
        return {
            "plan": plan["answer"],
            "code": edited["answer"],
            "approved": gate["approved"],
            "comment": gate["comment"],
        }


def plan_code() -> PlanCode:
    return PlanCode(
        name="plan_code",
        subflows={
            "planner": HumanFlow(config={"question": "Write a plan for: {{ problem }}"}),
            "coder": coder,
            "editor": HumanFlow(
                config={"question": "Edit the code for {{ problem }}", "kind": "edit", "syntax": {"proposed": "python"}}
            ),
            "gate": HumanFlow(config={"question": "Run this code?", "kind": "approve"}),
        },
    )


app = plan_code()

ask = HumanFlow(name="ask", config={"question": "{{ question }}"})
pick = HumanFlow(name="pick", config={"question": "Pick a language", "kind": "choice", "choices": ["python", "c++"]})


class PlanThenCode(CompositeFlow):
    """A person plans (waiting in-process for a while first), the coder codes from the plan."""

    class Input(BaseModel):
        problem: str

    async def handle(self, ctx: Any, data: Any) -> dict:
        plan = await self.call("planner", {"problem": data.problem})
        code = await self.call("coder", {"plan": plan["answer"], "problem": data.problem})
        return {"plan": plan["answer"], "code": code["code"], "answered_by": plan["answered_by"]}


patient = PlanThenCode(
    name="patient",
    subflows={
        "planner": HumanFlow(config={"question": "Plan for {{ problem }}?", "wait_s": 600, "poll_s": 0.05}),
        "coder": coder,
    },
)


def draft(plan: str) -> dict:
    """A deterministic drafter for the YAML composition."""
    return {"draft": f"code for '{plan}'"}
