"""aiflows/cc: the ten competitive-coding flows of the Flows paper.

`CompetitiveCoding` (the hub entrypoint) builds the variant its config names (`flow:`, default
Code_Debug); the named classes fix it. `FLOWS` maps each paper name to its class.

    from aiflows import hub
    flow = hub.load("aiflows/cc", config={"flow": "Code_Debug", "model": "openai/gpt-4o-mini"})
    out = await flow.run({"problem": problem.model_dump(mode="json")})
    out["code"], out["sample_verdict"]
"""

from __future__ import annotations

from .composite import CCFlow
from .config import VARIANTS, CCConfig

__all__ = [
    "FLOWS",
    "VARIANTS",
    "CCConfig",
    "CCFlow",
    "Code",
    "CodeCollab",
    "CodeDebug",
    "CodeDebugCollab",
    "CodeReflect",
    "CompetitiveCoding",
    "PlanCode",
    "PlanCollabCode",
    "PlanOracleCode",
    "PlanOracleCodeDebugCollab",
    "PlanReflectCode",
]


class CompetitiveCoding(CCFlow):
    """The variant named by `config.flow` (one of `VARIANTS`)."""


class Code(CCFlow):
    """Write the program in one answer."""

    VARIANT = "Code"


class CodeReflect(CCFlow):
    """Write, then reflect on the program (a fixed prompt) and answer again."""

    VARIANT = "Code_Reflect"


class CodeCollab(CCFlow):
    """Write, then revise after a critic's review, until it has no issues or the rounds run out."""

    VARIANT = "Code_Collab"


class CodeDebug(CCFlow):
    """Write, run on the public samples, fix from the judge's feedback; up to 4 attempts."""

    VARIANT = "Code_Debug"


class CodeDebugCollab(CCFlow):
    """Code_Debug where a critic also reads the failing program and the sample results."""

    VARIANT = "Code_Debug_Collab"


class PlanCode(CCFlow):
    """A planner writes a plan in words; the coder follows it."""

    VARIANT = "Plan-Code"


class PlanReflectCode(CCFlow):
    """Plan, reflect on the plan, then code."""

    VARIANT = "Plan_Reflect-Code"


class PlanCollabCode(CCFlow):
    """Plan, revise the plan after a critic's review, then code."""

    VARIANT = "Plan_Collab-Code"


class PlanOracleCode(CCFlow):
    """Code from the editorial's plan (or a person's)."""

    VARIANT = "Plan_Oracle-Code"


class PlanOracleCodeDebugCollab(CCFlow):
    """Code_Debug_Collab from the editorial's plan (or a person's)."""

    VARIANT = "Plan_Oracle-Code_Debug_Collab"


FLOWS: dict[str, type[CCFlow]] = {
    cls.VARIANT: cls  # type: ignore[misc]
    for cls in (
        Code,
        CodeReflect,
        CodeCollab,
        CodeDebug,
        CodeDebugCollab,
        PlanCode,
        PlanReflectCode,
        PlanCollabCode,
        PlanOracleCode,
        PlanOracleCodeDebugCollab,
    )
}
assert set(FLOWS) == set(VARIANTS)
