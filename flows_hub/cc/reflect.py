"""The reflection flow: a fixed message, rendered from a template, that asks for a second look.

As in the paper, reflection needs no second model: the generator is asked, in a fixed prompt,
to check its own work and give its final answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from aiflows import AtomicFlow, Context
from aiflows.llm.prompts import PromptTemplate

__all__ = ["Reflection"]

_HERE = Path(__file__).resolve().parent


class Reflection(AtomicFlow):
    """Renders `prompts/<template>` with the input as variables; output `message`."""

    class Input(BaseModel):
        model_config = ConfigDict(extra="allow")

    class Output(BaseModel):
        message: str

    class Config(BaseModel):
        model_config = ConfigDict(extra="forbid")
        template: str = "prompts/reflect_code.jinja"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._template = PromptTemplate.from_file(_HERE / self.config.template)

    async def handle(self, ctx: Context, data: BaseModel) -> dict[str, Any]:
        return {"message": self._template.render(data.model_dump())}
