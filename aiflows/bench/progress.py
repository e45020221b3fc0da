"""A rich progress bar on stderr for a benchmark run, advanced once per finished attempt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .config import BenchConfig
from .records import ProblemRecord

__all__ = ["ProgressBar"]


class ProgressBar:
    """A rich progress bar on stderr (or nothing), advanced once per finished attempt."""

    def __init__(self, config: BenchConfig, total: int) -> None:
        self.enabled = config.progress
        self.total = total
        self.flow = config.flow
        self._bar: Any = None
        self._task: Any = None
        self.solved = 0

    def __enter__(self) -> Callable[[ProblemRecord], None]:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
            )
            self._bar.start()
            self._task = self._bar.add_task(self.flow, total=self.total, status="")
        return self.advance

    def advance(self, record: ProblemRecord) -> None:
        self.solved += record.accepted
        if self._bar is not None:
            last = f"{record.problem_id} {record.verdict or record.status}"
            self._bar.update(self._task, advance=1, status=f"solved {self.solved} | last: {last}")

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
