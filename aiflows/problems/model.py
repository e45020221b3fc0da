"""The problem model shared by the loaders and the judge.

Every loader (ICPC/Kattis packages, Code Jam, cc_flows jsonl, HumanEval) turns its source into
`Problem`; the judge only ever sees `Problem`. Test data stays on disk and travels by path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Problem", "TestCase", "Validation"]

Validation = Literal["default", "custom", "custom-interactive"]


class TestCase(BaseModel):
    """One judged input: a stdin file and the answer the output is compared with."""

    model_config = ConfigDict(frozen=True)

    name: str  # "sample/1", "secret/group1/03": the data path without extension
    input_path: Path
    answer_path: Path
    is_sample: bool = False


class Problem(BaseModel):
    """A problem as the flows (statement) and the judge (limits, tests, validation) need it."""

    model_config = ConfigDict(frozen=True)

    id: str  # unique within its set, e.g. "hello", "codejam/2020/qual/vestigium", "1716A"
    title: str
    statement: str = ""  # markdown/plain text ready for a prompt
    kind: Literal["stdio", "function"] = "stdio"
    source: str = ""  # "kattis", "codejam", "cc_flows", "humaneval", "samples"
    root: Path | None = None  # the package folder, when there is one
    time_limit: float = 2.0  # seconds of CPU time per test
    memory_limit_mb: int = 1024
    output_limit_mb: int = 8
    validation: Validation = "default"
    # Kattis default-validator flags: case_sensitive, space_change_sensitive,
    # float_absolute_tolerance E, float_relative_tolerance E, float_tolerance E.
    validator_flags: list[str] = Field(default_factory=list)
    output_validator: Path | None = None  # source file or folder of a custom validator
    tests: list[TestCase] = Field(default_factory=list)
    # Function-level problems (HumanEval): the program defines `entry_point`; `test_code`
    # defines check(candidate) and is run after it.
    entry_point: str | None = None
    prompt: str | None = None  # function signature + docstring given to the model
    test_code: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)  # difficulty, tags, bucket, plan ...

    @property
    def samples(self) -> list[TestCase]:
        return [t for t in self.tests if t.is_sample]

    @property
    def interactive(self) -> bool:
        return self.validation == "custom-interactive"
