"""Errors of the problem loaders, and the set type that carries them next to what loaded.

A benchmark over a hundred problems should not die because one package is broken: set loaders
report each bad problem as a `ProblemError` in `ProblemSet.errors` and keep loading the rest.
A loader asked for one problem raises the `ProblemError` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aiflows.exceptions import AiflowsError
from aiflows.problems.model import Problem

__all__ = ["ProblemError", "ProblemSet"]


class ProblemError(AiflowsError):
    """A problem (or a file of problems) could not be read.

    The message names the problem, the file and, where it applies, the key or line, so the
    person fixing the data knows where to look.

    Attributes:
        problem: the problem id or folder name, when known.
        path: the file or folder at fault.
        key: the key, field or line within that file, when it applies.
        reason: what was wrong, without the location.
    """

    def __init__(
        self,
        reason: str,
        *,
        problem: str | None = None,
        path: Path | str | None = None,
        key: str | None = None,
    ) -> None:
        self.reason = reason
        self.problem = problem
        self.path = Path(path) if path is not None else None
        self.key = key
        where = []
        if problem:
            where.append(f"problem '{problem}'")
        if self.path is not None:
            where.append(f"file {self.path}")
        if key:
            where.append(f"key '{key}'")
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


class ProblemSet(list[Problem]):
    """The problems that loaded, in order, plus the errors of those that did not.

    It is a plain `list[Problem]`, so code that only wants problems can ignore `errors`.

    Example:
        >>> s = ProblemSet([], errors=[ProblemError("bad yaml", problem="x")])
        >>> len(s), len(s.errors)
        (0, 1)
    """

    def __init__(self, problems: Iterable[Problem] = (), *, errors: Iterable[ProblemError] = ()) -> None:
        super().__init__(problems)
        self.errors: list[ProblemError] = list(errors)

    @property
    def problems(self) -> list[Problem]:
        """The loaded problems as a plain list (a copy)."""
        return list(self)

    def by_id(self) -> dict[str, Problem]:
        """Index the problems by id."""
        return {p.id: p for p in self}

    def __repr__(self) -> str:
        return f"ProblemSet({len(self)} problems, {len(self.errors)} errors)"
