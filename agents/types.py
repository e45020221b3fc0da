"""The data agents' modules exchange: structured outputs, tool metadata, memory steps, the run's output.

Every module is a flow, so these are the contract between them: a planner flow answers a
`PlannerAction` (or text the tolerant parser turns into one), an executor an `ExecutorCommand`,
a verifier a `VerifierDecision`, a generator a `FinalAnswer`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AgentInput",
    "AgentOutput",
    "ExecutorCommand",
    "FinalAnswer",
    "MemoryStep",
    "ModuleInput",
    "Phase",
    "PlannerAction",
    "QueryAnalysis",
    "ToolMetadata",
    "TurnRecord",
    "VerifierDecision",
]

Phase = Literal["analysis", "next_step", "command", "verify", "answer"]


class QueryAnalysis(BaseModel):
    """Step 0: what the query asks and which skills and tools it needs."""

    analysis: str


class PlannerAction(BaseModel):
    """The planner's choice for one turn (the only output that is trained)."""

    justification: str = ""
    context: str = ""
    sub_goal: str
    tool_name: str


class ExecutorCommand(BaseModel):
    """The executor's concrete tool call: the tool's input as keyword arguments."""

    analysis: str = ""
    explanation: str = ""
    command: dict[str, Any]


class VerifierDecision(BaseModel):
    """Whether the memory already answers the query (STOP) or another turn is needed (CONTINUE)."""

    analysis: str = ""
    stop: bool


class FinalAnswer(BaseModel):
    """The generator's answer; `answer` is what stood inside `<answer>...</answer>` when present."""

    answer: str
    text: str = ""


class ToolMetadata(BaseModel):
    """What the planner and executor know of a tool, taken from the tool flow itself."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    input_schema: dict[str, Any] = Field(default_factory=dict)
    output: str = ""
    limitations: str = ""
    examples: list[dict[str, Any]] = Field(default_factory=list)

    def render(self) -> str:
        """The tool as the planner's prompt lists it."""
        props = self.input_schema.get("properties", {})
        fields = ", ".join(f"{k}: {v.get('type', 'any')}" for k, v in props.items()) or "none"
        lines = [f"- {self.name}: {self.description}".rstrip(), f"  input: {fields}"]
        if self.output:
            lines.append(f"  output: {self.output}")
        if self.limitations:
            lines.append(f"  limitations: {self.limitations}")
        for example in self.examples[:2]:
            lines.append(f"  example: {example}")
        return "\n".join(lines)


class MemoryStep(BaseModel):
    """One turn as memory keeps it: which tool, for which sub-goal, with which command, what came back."""

    turn: int
    tool_name: str
    sub_goal: str
    command: dict[str, Any] | str
    result: str
    ok: bool = True  # False: the tool failed, or the action was invalid (a no-op step)
    invalid: bool = False  # the planner named no tool the agent has


class AgentInput(BaseModel):
    """What an agent is asked: a query, and optionally ids that training and evaluation group by."""

    query: str = Field(min_length=1)
    query_id: str = ""
    rollout_id: str = ""


class ModuleInput(BaseModel):
    """What every module flow is sent; each uses the fields its phase needs (extra keys are ignored)."""

    model_config = ConfigDict(extra="allow")

    phase: Phase
    query: str
    analysis: str = ""
    memory: str = ""
    tools: str = ""
    tool_names: list[str] = Field(default_factory=list)
    turn: int = 0
    max_turns: int = 0
    query_id: str = ""
    rollout_id: str = ""
    sub_goal: str = ""
    context: str = ""
    tool_name: str = ""
    tool: str = ""  # the chosen tool's metadata, rendered


class TurnRecord(BaseModel):
    """One turn of a trajectory as the output reports it."""

    turn: int
    action: PlannerAction
    command: dict[str, Any] | str
    result: str
    ok: bool
    invalid: bool
    stop: bool


class AgentOutput(BaseModel):
    """An agent's answer with the whole trajectory that led to it."""

    answer: str
    text: str = ""
    analysis: str = ""
    turns: list[TurnRecord] = Field(default_factory=list)
    steps: int = 0
    invalid_actions: int = 0
    tool_errors: int = 0
    tool_calls: dict[str, int] = Field(default_factory=dict)
    stop_reason: Literal["verifier", "max_steps", "max_time"] = "verifier"
    memory: str = ""
