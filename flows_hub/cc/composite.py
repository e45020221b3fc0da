"""`CCFlow`: a plan stage and a code stage, each one of the paper's ways, as plain async Python.

    plan stage:  none | plan | plan_reflect | plan_collab | oracle
    code stage:  code | reflect | collab | debug | debug_collab

Every loop is bounded by the config. The subflows are only those the variant needs:
`planner`, `plan_reflect`, `plan_critic`, `oracle`, `coder`, `code_reflect`, `code_critic`, `tester`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from aiflows import CompositeFlow, Context, Flow
from aiflows.llm.prompts import PromptTemplate
from aiflows.problems.model import Problem

from .brief import critic_approves, problem_brief
from .chats import CodeCritic, Coder, PlanCritic, Planner
from .code_blocks import NO_CODE_FEEDBACK, extract_code
from .config import VARIANTS, CCConfig
from .oracle import OraclePlan
from .reflect import Reflection
from .tester import CodeTesting

__all__ = ["CCFlow"]

_HERE = Path(__file__).resolve().parent
_FEEDBACK_CHARS = 2000  # how much of each feedback a step record keeps


class CCFlow(CompositeFlow):
    """A competitive-coding flow: input a `problem`, output the final `code` and what happened.

    `VARIANT` fixes the variant in the named subclasses; here it comes from `config.flow`.
    """

    VARIANT: ClassVar[str | None] = None

    class Input(BaseModel):
        problem: Problem

    class Output(BaseModel):
        code: str | None  # the program to score; None when the model never gave a code block
        language: str
        plan: str = ""
        rounds: int  # answers the coder gave
        sample_verdict: str | None = None  # the last sample run, in the debug variants
        failure: str | None = None  # why there is no code, when there is none
        steps: list[dict[str, Any]] = Field(default_factory=list)

    Config: ClassVar[type[BaseModel] | None] = CCConfig
    config: CCConfig

    def __init__(self, *, name: str | None = None, config: Any = None, timeout: float | None = None) -> None:
        if self.VARIANT is not None:
            config = {**_as_dict(config), "flow": self.VARIANT}
        super().__init__(name=name or (self.VARIANT or "CompetitiveCoding"), config=config, timeout=timeout)
        self.variant: str = self.config.flow
        self.plan_mode, self.code_mode = VARIANTS[self.variant]
        self._subflows.update(self._build_subflows())
        self._to_coder = PromptTemplate.from_file(_HERE / "prompts" / "critic_to_coder.jinja")
        self._to_planner = PromptTemplate.from_file(_HERE / "prompts" / "critic_to_planner.jinja")

    def _build_subflows(self) -> dict[str, Flow]:
        cfg = self.config
        chat = cfg.chat_config()
        subs: dict[str, Flow] = {"coder": Coder(name="coder", config=chat)}
        if self.plan_mode in ("plan", "plan_reflect", "plan_collab"):
            subs["planner"] = Planner(name="planner", config=chat)
        if self.plan_mode == "plan_reflect":
            subs["plan_reflect"] = Reflection(name="plan_reflect", config={"template": "prompts/reflect_plan.jinja"})
        if self.plan_mode == "plan_collab":
            subs["plan_critic"] = PlanCritic(name="plan_critic", config=chat)
        if self.plan_mode == "oracle":
            subs["oracle"] = OraclePlan(name="oracle", config={"source": cfg.oracle})
        if self.code_mode == "reflect":
            subs["code_reflect"] = Reflection(name="code_reflect", config={"template": "prompts/reflect_code.jinja"})
        if self.code_mode in ("collab", "debug_collab"):
            subs["code_critic"] = CodeCritic(name="code_critic", config=chat)
        if self.code_mode in ("debug", "debug_collab"):
            subs["tester"] = CodeTesting(name="tester", config={"jobs": cfg.judge_jobs, "sandbox": cfg.sandbox})
        return subs

    def close(self) -> None:
        """Stop the sandbox the tester holds (it also stops when the flow is collected)."""
        tester = self._subflows.get("tester")
        if isinstance(tester, CodeTesting):
            tester.close()

    # -- the handler -------------------------------------------------------------------------------
    async def handle(self, ctx: Context, data: BaseModel) -> dict[str, Any]:
        assert isinstance(data, CCFlow.Input)
        run = _Run(self, ctx, data.problem)
        plan = await run.make_plan()
        await run.make_code(plan)
        return {
            "code": run.code,
            "language": self.config.language,
            "plan": plan,
            "rounds": run.rounds,
            "sample_verdict": run.sample_verdict,
            "failure": None if run.code is not None else "the model gave no ```python code block in any answer",
            "steps": run.steps,
        }


class _Run:
    """The state of one handler invocation: the variables, the latest code, the steps taken."""

    def __init__(self, flow: CCFlow, ctx: Context, problem: Problem) -> None:
        self.flow = flow
        self.ctx = ctx
        self.problem = problem
        self.problem_json = problem.model_dump(mode="json")
        self.vars = problem_brief(problem)
        self.code: str | None = None
        self.rounds = 0
        self.sample_verdict: str | None = None
        self.steps: list[dict[str, Any]] = []

    def step(self, stage: str, **info: Any) -> None:
        for key in ("feedback", "critique", "message"):
            if isinstance(info.get(key), str):
                info[key] = info[key][:_FEEDBACK_CHARS]
        record = {"stage": stage, **info}
        self.steps.append(record)
        self.ctx.emit("cc.step", record)

    # -- plan ---------------------------------------------------------------------------------------
    async def make_plan(self) -> str:
        mode = self.flow.plan_mode
        if mode == "none":
            return ""
        if mode == "oracle":
            out = await self.ctx.call("oracle", {"problem": self.problem_json})
            self.step("plan", source=out["source"])
            return str(out["plan"])
        plan = (await self.ctx.call("planner", self.vars))["content"]
        self.step("plan", round=1)
        if mode == "plan":
            return plan
        for round_number in range(2, self.flow.config.plan_rounds + 2):
            if mode == "plan_reflect":
                message = (await self.ctx.call("plan_reflect", self.vars))["message"]
            else:
                critique = (await self.ctx.call("plan_critic", {**self.vars, "plan": plan}))["content"]
                self.step("plan_critic", round=round_number - 1, critique=critique)
                if critic_approves(critique):
                    break
                message = self.flow._to_planner.render({"critique": critique})
            plan = (await self.ctx.call("planner", {**self.vars, "feedback": message}))["content"]
            self.step("plan", round=round_number)
        return plan

    # -- code ---------------------------------------------------------------------------------------
    async def write(self, plan: str, feedback: str = "") -> str | None:
        """One coder turn; keeps the latest code the model gave."""
        answer = (await self.ctx.call("coder", {**self.vars, "plan": plan, "feedback": feedback}))["content"]
        self.rounds += 1
        code = extract_code(answer)
        self.step("code", round=self.rounds, has_code=code is not None)
        if code is not None:
            self.code = code
        return code

    async def make_code(self, plan: str) -> None:
        mode = self.flow.code_mode
        cfg = self.flow.config
        if mode in ("debug", "debug_collab"):
            await self.debug(plan, with_critic=mode == "debug_collab")
            return
        latest = await self.write(plan)
        if mode == "reflect":
            for _ in range(cfg.reflect_rounds):
                message = (await self.ctx.call("code_reflect", self.vars))["message"]
                latest = await self.write(plan, message if latest is not None else f"{NO_CODE_FEEDBACK}\n\n{message}")
        elif mode == "collab":
            for _ in range(cfg.collab_rounds):
                if latest is None:
                    feedback = NO_CODE_FEEDBACK
                else:
                    critique = await self.critique(plan, latest, "")
                    if critic_approves(critique):
                        break
                    feedback = self.flow._to_coder.render({"feedback": "", "critique": critique})
                latest = await self.write(plan, feedback)

    async def critique(self, plan: str, code: str, feedback: str) -> str:
        variables = {**self.vars, "plan": plan, "code": code, "feedback": feedback}
        critique = str((await self.ctx.call("code_critic", variables))["content"])
        self.step("code_critic", round=self.rounds, critique=critique)
        return critique

    async def debug(self, plan: str, *, with_critic: bool) -> None:
        """Write, run on the samples, and fix from what the samples said, up to `debug_rounds` times."""
        feedback = ""
        for attempt in range(self.flow.config.debug_rounds):
            latest = await self.write(plan, feedback)
            test = await self.ctx.call("tester", {"problem": self.problem_json, "code": latest})
            self.sample_verdict = test["verdict"] if latest is not None else self.sample_verdict
            self.step("test", round=self.rounds, verdict=test["verdict"], feedback=test["feedback"])
            if test["accepted"] or attempt == self.flow.config.debug_rounds - 1:
                break
            feedback = test["feedback"]
            if with_critic and latest is not None:
                critique = await self.critique(plan, latest, feedback)
                feedback = self.flow._to_coder.render({"feedback": feedback, "critique": critique})


def _as_dict(config: Any) -> dict[str, Any]:
    if config is None:
        return {}
    if isinstance(config, BaseModel):
        return config.model_dump(exclude_unset=True)
    return dict(config)
