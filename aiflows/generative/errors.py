"""Errors of the generative samplers, each a typed `AiflowsError` that says what and where.

AiflowsError
└── GenerativeError
    ├── UnknownSolver        a solver name no sampler knows (lists the ones it does)
    ├── UnknownModel         a model reference that names no checkpoint, registry entry or diffusers folder
    ├── StepsError           steps < 1, or a time grid that is not strictly monotone
    ├── NonFiniteVelocity    the model returned NaN or inf (says at which step and time)
    ├── ShapeMismatch        the model's output shape is not its input's
    └── CheckpointMismatch   a checkpoint written for another architecture or kind of model
"""

from __future__ import annotations

from ..exceptions import AiflowsError

__all__ = [
    "CheckpointMismatch",
    "GenerativeError",
    "NonFiniteVelocity",
    "ShapeMismatch",
    "StepsError",
    "UnknownModel",
    "UnknownSolver",
]


class GenerativeError(AiflowsError):
    """Base of every error the samplers raise on purpose."""


class UnknownSolver(GenerativeError):
    """No solver of that name; the message lists the known ones."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown solver '{name}'; known: {', '.join(sorted(known))}")


class UnknownModel(GenerativeError):
    """A model reference that resolves to nothing."""

    def __init__(self, reference: str, why: str) -> None:
        self.reference = reference
        super().__init__(f"unknown model '{reference}': {why}")


class StepsError(GenerativeError):
    """A step count below 1 or a time grid that is not strictly monotone."""


class NonFiniteVelocity(GenerativeError):
    """The model returned NaN or inf; sampling stopped there."""

    def __init__(self, step: int, t: float, what: str = "velocity") -> None:
        self.step = step
        self.t = t
        super().__init__(f"the model returned a non-finite {what} at step {step} (t={t:.6g}); sampling stopped")


class ShapeMismatch(GenerativeError):
    """The model's output does not have its input's shape."""

    def __init__(self, expected: tuple[int, ...], got: tuple[int, ...], where: str = "model") -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"{where} returned shape {got}, expected {expected} (the shape of its input)")


class CheckpointMismatch(GenerativeError):
    """A checkpoint that does not fit the architecture or kind of model it is loaded into."""
