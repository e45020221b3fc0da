"""Tools are flows. `ToolFlow` adds what the planner needs to know of a tool, asked of the tool itself.

A tool's metadata (name, description, input schema, output, limitations, examples) comes from the
flow: its class attributes and its `Input` schema. A tool served on another machine is asked over
the bus with `DESCRIBE` (a request any `ToolFlow` answers with its metadata), so the planner's
prompt is the same whether the tool runs here or elsewhere. Any other flow can be a tool too: its
metadata is then its name, docstring and input schema.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from aiflows.context import Context
from aiflows.flow import AtomicFlow, Data, Flow, json_dump

from ..types import ToolMetadata

__all__ = ["DESCRIBE", "ToolFlow", "ToolResult", "metadata_of"]

DESCRIBE: dict[str, Any] = {"describe_tool": True}  # the request that asks a ToolFlow for its metadata


class ToolResult(BaseModel):
    """What a tool answers: `result` is the text memory keeps; tools may add fields."""

    model_config = ConfigDict(extra="allow")

    result: str


class _Describe(BaseModel):
    describe_tool: bool = True


def metadata_of(flow: Flow, name: str | None = None) -> ToolMetadata:
    """The metadata of a tool flow here in this process (a `ToolFlow`'s own, or derived from any flow)."""
    if isinstance(flow, ToolFlow):
        return flow.metadata(name)
    schema = flow.Input.model_json_schema() if flow.Input is not Data else {}
    return ToolMetadata(name=name or flow.name, description=inspect.getdoc(flow) or "", input_schema=schema)


class ToolFlow(AtomicFlow):
    """Base of tool flows: subclasses set `Input`, the metadata class attributes, and `run_tool`."""

    Output = Data
    description: ClassVar[str] = ""
    output: ClassVar[str] = ""
    limitations: ClassVar[str] = ""
    examples: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metadata: ToolMetadata | None = None

    def metadata(self, name: str | None = None) -> ToolMetadata:
        if self._metadata is None:  # a JSON schema takes a millisecond to build: once per tool object
            self._metadata = self._describe()
        return self._metadata if name is None else self._metadata.model_copy(update={"name": name})

    def _describe(self) -> ToolMetadata:
        return ToolMetadata(
            name=self.name,
            description=self.description or (inspect.getdoc(type(self)) or "").split("\n\n")[0],
            input_schema=self.Input.model_json_schema(),
            output=self.output,
            limitations=self.limitations,
            examples=list(self.examples),
        )

    def validate_input(self, data: dict[str, Any], address: str) -> BaseModel:
        if data == DESCRIBE:
            return _Describe()
        return super().validate_input(data, address)

    async def handle(self, ctx: Context, data: Any) -> dict[str, Any]:
        if isinstance(data, _Describe):
            return {"metadata": self.metadata().model_dump(mode="json")}
        result = await self.run_tool(ctx, data)
        return json_dump(result) if isinstance(result, BaseModel) else result

    async def run_tool(self, ctx: Context, data: Any) -> ToolResult | dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must define `async def run_tool(self, ctx, data)`")
