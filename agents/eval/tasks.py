"""Evaluation tasks with exact answers: Game of 24, GSM8K and kbqa.

`load_task(name)` gives the examples (id, query, reference answer) and the scorer that checks a
response exactly; training uses the same scorers as rewards.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from aiflows.exceptions import ConfigError

from .kbqa import Split, generate_kb
from .scorers import score_game24, score_gsm8k, score_kbqa

__all__ = ["TASKS", "Example", "Task", "default_data_dir", "load_task"]

TASKS = ("game24", "gsm8k", "kbqa")


class Example(BaseModel):
    id: str
    query: str
    answer: str  # the reference (for game24: the four numbers)
    meta: dict[str, Any] = Field(default_factory=dict)


class Task(BaseModel):
    """A task: its examples and how a response is scored (1.0 right, 0.0 wrong)."""

    name: str
    examples: list[Example]
    scorer: Callable[[str, Example], float]
    corpus: list[dict[str, str]] = Field(default_factory=list)  # kbqa: the retrieval corpus


def default_data_dir() -> Path:
    """`$AIFLOWS_SHARED_DATA/agent`, else `../shared/data/agent` beside the working directory's repository."""
    root = os.environ.get("AIFLOWS_SHARED_DATA")
    base = Path(root) if root else Path.cwd().parent / "shared" / "data"
    return base / "agent"


def _game24(folder: Path) -> list[Example]:
    file = folder / "game24" / "24.csv"
    if not file.is_file():
        raise ConfigError(f"no Game of 24 data at {file}", key="task")
    with file.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    query = "Use the numbers {} exactly once each, with + - * / and parentheses, to make 24. Give the expression."
    return [Example(id=f"game24-{r['Rank']}", query=query.format(r["Puzzles"]), answer=r["Puzzles"]) for r in rows]


def _gsm8k(folder: Path, split: str) -> list[Example]:
    file = folder / "gsm8k" / f"{split}.jsonl"
    if not file.is_file():
        raise ConfigError(f"no GSM8K data at {file}", key="task")
    out = []
    for i, line in enumerate(file.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        out.append(
            Example(id=f"gsm8k-{split}-{i}", query=row["question"], answer=row["answer"].split("####")[-1].strip())
        )
    return out


def load_task(name: str, *, data_dir: str | Path | None = None, split: str | None = None, seed: int = 0) -> Task:
    """The task `name` (game24, gsm8k, kbqa). Splits: gsm8k test/train; kbqa train/test_entity/test_composition.

    Raises:
        ConfigError: an unknown task or split, or its data is missing.
    """
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if name == "game24":
        return Task(name=name, examples=_game24(folder), scorer=score_game24)
    if name == "gsm8k":
        chosen = split or "test"
        if chosen not in ("test", "train"):
            raise ConfigError(f"gsm8k has the splits test and train, not {chosen!r}", key="split")
        return Task(name=name, examples=_gsm8k(folder, chosen), scorer=score_gsm8k)
    if name == "kbqa":
        chosen = split or "test_entity"
        if chosen not in ("train", "test_entity", "test_composition"):
            raise ConfigError(f"kbqa has the splits train, test_entity, test_composition, not {chosen!r}", key="split")
        kb = generate_kb(seed)
        kb_split: Split = chosen  # type: ignore[assignment]
        examples = [
            Example(id=q.id, query=q.question, answer=q.answer, meta={"kind": q.kind, "hops": q.hops})
            for q in kb.questions(kb_split)
        ]
        return Task(name=name, examples=examples, scorer=score_kbqa, corpus=kb.corpus())
    raise ConfigError(f"unknown task {name!r} (tasks: {', '.join(TASKS)})", key="task")
