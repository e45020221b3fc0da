"""The judge's errors.

AiflowsError
└── JudgeError          the judge could not judge (never a verdict on the program)
    ├── PackageError    a problem package is malformed: names the problem and the file
    ├── ValidatorError  a custom output validator does not build or run
    └── SandboxError    the sandbox could not start or died
"""

from __future__ import annotations

from pathlib import Path

from aiflows.exceptions import AiflowsError

__all__ = ["JudgeError", "PackageError", "SandboxError", "ValidatorError"]


class JudgeError(AiflowsError):
    """The judge could not produce a verdict."""


class PackageError(JudgeError):
    """A problem (package) cannot be judged as given; says which problem and which file."""

    def __init__(self, problem: str, message: str, *, file: Path | str | None = None) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        where = f"problem '{problem}'" + (f", file {file}" if file is not None else "")
        super().__init__(f"{where}: {message}")


class ValidatorError(PackageError):
    """The problem's output validator (or interactor) does not compile or crashed."""


class SandboxError(JudgeError):
    """The sandbox could not be started, or died under us."""
