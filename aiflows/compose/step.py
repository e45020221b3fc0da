"""A subflow inside a declarative composite, with the key maps around it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..exceptions import ConfigError
from ..flow import Data, Flow
from ..keymap import KeyMap, as_keymap

__all__ = ["Step", "as_steps"]


@dataclass
class Step:
    """`flow` called with `inputs` applied to the caller's data; `outputs` applied to its answer.

    Without `inputs` the flow gets all of the caller's data (its schema keeps what it needs);
    without `outputs` its whole answer is merged back.
    """

    flow: Flow | str
    inputs: KeyMap | dict[str, Any] | None = None
    outputs: KeyMap | dict[str, Any] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        try:
            self.inputs = as_keymap(self.inputs)
            self.outputs = as_keymap(self.outputs)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"step '{self.label}': {exc}") from None

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        return self.flow if isinstance(self.flow, str) else self.flow.name

    def input_for(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.inputs.apply(data) if isinstance(self.inputs, KeyMap) else data

    def output_for(self, output: dict[str, Any]) -> dict[str, Any]:
        return self.outputs.apply(output) if isinstance(self.outputs, KeyMap) else output

    def merge_output(self, data: dict[str, Any], output: dict[str, Any]) -> dict[str, Any]:
        return {**data, **self.output_for(output)}

    def check_outputs(self, owner: str) -> None:
        """An output map may only read keys the subflow's output schema has."""
        if isinstance(self.flow, str) or not isinstance(self.outputs, KeyMap) or self.flow.Output is Data:
            return
        sources = self.outputs.sources()
        fields = self.flow.Output.model_fields
        unknown = [src for src in sources if src.split(".")[0] not in fields]
        if unknown and self.flow.Output.model_config.get("extra") != "allow":
            raise ConfigError(
                f"'{owner}': step '{self.label}' reads {unknown} from the output of "
                f"{self.flow.Output.__qualname__}, which has only {', '.join(fields)}"
            )

    def check_inputs(self, owner: str) -> None:
        """Compare the input map with the subflow's schema, so a wrong map fails when built, not when run."""
        if isinstance(self.flow, str) or not isinstance(self.inputs, KeyMap):
            return
        schema = self.flow.Input
        if schema is Data:
            return
        targets = self.inputs.targets()
        if targets is None:
            return
        fields = schema.model_fields
        unknown = [t for t in targets if t not in fields]
        if unknown and schema.model_config.get("extra") != "allow":
            raise ConfigError(
                f"'{owner}': step '{self.label}' maps to {unknown}, which {schema.__qualname__} does not have "
                f"(fields: {', '.join(fields)})"
            )
        missing = [n for n, f in fields.items() if f.is_required() and n not in targets]
        if missing:
            raise ConfigError(
                f"'{owner}': step '{self.label}' needs {missing} ({schema.__qualname__}) but its input map "
                f"only gives {targets}"
            )


def as_steps(owner: str, items: list[Flow | Step | str] | dict[str, Flow | Step | str]) -> list[Step]:
    """Normalise steps and give each a unique name (duplicates get a numeric suffix)."""
    pairs = list(items.items()) if isinstance(items, dict) else [(None, item) for item in items]
    steps: list[Step] = []
    seen: set[str] = set()
    for index, (key, item) in enumerate(pairs):
        step = item if isinstance(item, Step) else Step(item)
        if not isinstance(step.flow, (Flow, str)):
            raise ConfigError(
                f"'{owner}': step {index} must be a Flow, Step or address, not {type(step.flow).__name__}"
            )
        name = key or step.label
        if name in seen:
            name = f"{name}_{index}"
        seen.add(name)
        step.name = name
        step.check_inputs(owner)
        step.check_outputs(owner)
        steps.append(step)
    if not steps:
        raise ConfigError(f"'{owner}' has no steps")
    return steps
