"""The configuration of the cc flows and the table of the ten variants of the paper."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["VARIANTS", "CCConfig", "CodeMode", "PlanMode"]

PlanMode = Literal["none", "plan", "plan_reflect", "plan_collab", "oracle"]
CodeMode = Literal["code", "reflect", "collab", "debug", "debug_collab"]

# name -> (how the plan is made, how the code is made)
VARIANTS: dict[str, tuple[PlanMode, CodeMode]] = {
    "Code": ("none", "code"),
    "Code_Reflect": ("none", "reflect"),
    "Code_Collab": ("none", "collab"),
    "Code_Debug": ("none", "debug"),
    "Code_Debug_Collab": ("none", "debug_collab"),
    "Plan-Code": ("plan", "code"),
    "Plan_Reflect-Code": ("plan_reflect", "code"),
    "Plan_Collab-Code": ("plan_collab", "code"),
    "Plan_Oracle-Code": ("oracle", "code"),
    "Plan_Oracle-Code_Debug_Collab": ("oracle", "debug_collab"),
}

# ChatConfig keys the cc config passes to every chat subflow when set.
CHAT_KEYS = ("model", "api_base", "api_key_env", "temperature", "top_p", "max_tokens", "seed", "cache")


class CCConfig(BaseModel):
    """One flat record: which variant, which model, how many rounds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow: str = "Code_Debug"  # one of VARIANTS (ignored by the named classes, which fix it)
    # -- the model of every chat subflow (None: the ChatFlow default / AIFLOWS_MODEL) --------------
    model: str | None = None
    api_base: str | None = None
    api_key_env: list[str] = Field(default_factory=list)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None  # also separates cached answers of different samples
    cache: str | None = None  # LLM response cache (see ChatConfig.cache); the benchmark turns it on
    chat: dict[str, Any] = Field(default_factory=dict)  # any other ChatConfig keys, for every chat
    # -- the loops (bounded) ------------------------------------------------------------------------
    language: Literal["python"] = "python"
    debug_rounds: int = Field(default=4, ge=1, le=20)  # code attempts tested on the samples (paper: 4)
    reflect_rounds: int = Field(default=1, ge=1, le=10)  # reflection turns after the first answer
    collab_rounds: int = Field(default=2, ge=1, le=10)  # critic turns after the first answer
    plan_rounds: int = Field(default=1, ge=1, le=10)  # reflection or critic turns on the plan
    # -- the oracle and the sandbox -----------------------------------------------------------------
    oracle: Literal["editorial", "human"] = "editorial"
    judge_jobs: int = Field(default=2, ge=1)
    sandbox: Literal["auto", "bwrap", "none"] = "auto"

    @field_validator("flow")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in VARIANTS:
            raise ValueError(f"unknown cc flow {value!r}; expected one of {', '.join(VARIANTS)}")
        return value

    def chat_config(self) -> dict[str, Any]:
        """The config every chat subflow gets."""
        values = {key: getattr(self, key) for key in CHAT_KEYS}
        out = {k: v for k, v in values.items() if v is not None and v != []}
        return {**out, **self.chat}
