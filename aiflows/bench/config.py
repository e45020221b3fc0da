"""What a benchmark run is: one flat, typed record, saved next to its results.

A run is keyed by everything that changes its answers: the flow and its config, the model and its
endpoint (resolved: AIFLOWS_MODEL and the default count), sampling, the problem sources and the
judge's settings. A rerun into the same run folder must have the same key, or results would mix:
`check_resumable` refuses it and says which key differs (the CLI picks a folder per key, see runs.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiflows.exceptions import ConfigError
from aiflows.llm.models import ModelChoice, choose_model

__all__ = ["RUN_FILE", "BenchConfig", "check_resumable", "default_flows_dir"]

RUN_FILE = "run.json"
# Keys that define the benchmark: a rerun that changes one of these would mix results.
_IDENTITY = (
    "flow",
    "model",
    "api_base",
    "samples",
    "temperature",
    "flow_config",
    "problems",
    "sandbox",
    "time_limit_cap",
)


def default_flows_dir() -> Path:
    """The first-party `flows_hub/cc` beside the installed aiflows package."""
    return Path(__file__).resolve().parents[2] / "flows_hub" / "cc"


class BenchConfig(BaseModel):
    """A competitive-coding benchmark run."""

    model_config = ConfigDict(extra="forbid")

    flow: str = "Code_Debug"  # one of the cc flows (Code, Code_Debug, Plan_Oracle-Code, ...)
    problems: list[str] = Field(default_factory=lambda: ["samples"])  # paths, or "samples"
    out: Path = Path("bench_runs/Code_Debug")  # records, report, plot
    limit: int | None = Field(default=None, ge=0)  # at most this many problems per source
    model: str | None = None  # None: AIFLOWS_MODEL, else the local default model
    api_base: str | None = None  # for OpenAI-compatible servers
    jobs: int = Field(default=2, ge=1, le=256)  # problems run at once
    samples: int = Field(default=1, ge=1, le=1000)  # attempts per problem (pass@k up to this k)
    temperature: float | None = Field(default=None, ge=0)  # None: 0 for one sample, 0.8 for several
    cache: str = "on"  # the LLM response cache; "off" to disable
    flow_config: dict[str, Any] = Field(default_factory=dict)  # more keys for the cc flow's config
    flows_dir: Path = Field(default_factory=default_flows_dir)  # the aiflows/cc hub folder
    time_limit_cap: float | None = Field(default=None, gt=0)  # clip problems' time limits when scoring
    sandbox: Literal["auto", "bwrap", "none"] = "auto"
    attempt_timeout_s: float | None = Field(default=None, gt=0)  # give up on one attempt after this long
    retry_failed: bool = False  # rerun problems whose record is an error
    preflight: bool = True  # check every model (key, name, context window) before any problem runs
    progress: bool = True  # show a progress bar

    def sampling_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.samples == 1 else 0.8

    def model_choice(self) -> ModelChoice:
        """The model and endpoint the chat flows will use (AIFLOWS_MODEL, then the config, then the default)."""
        configured = self.flow_config.get("model", self.model)
        api_base = self.flow_config.get("api_base", self.api_base)
        return choose_model(str(configured) if configured else None, api_base, os.environ)

    def problem_sources(self) -> list[str]:
        """The problem sources as absolute paths (`samples` and other names stay as they are)."""
        return [str(Path(p).resolve()) if Path(p).exists() else p for p in self.problems]

    def identity(self) -> dict[str, Any]:
        """Everything that changes the answers: the run's key (see the module docstring)."""
        values = self.model_dump(mode="json")
        values["temperature"] = self.sampling_temperature()
        choice = self.model_choice()
        values["model"] = choice.model
        values["api_base"] = choice.api_base
        values["problems"] = self.problem_sources()
        return {key: values[key] for key in _IDENTITY}

    def key(self) -> str:
        """A short digest of `identity()`: runs with equal keys give the same answers."""
        text = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def check_resumable(config: BenchConfig, *, write: bool = True) -> None:
    """Write `run.json` in the output folder, or check that the one there is the same benchmark.

    With `write=False` it only checks (nothing is created).

    Raises:
        ConfigError: the folder holds another benchmark (names the differing key), or its
            `run.json` is unreadable.
    """
    path = config.out / RUN_FILE
    mine = config.identity()
    recorded: dict[str, Any] = {}
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read the run description ({exc})", file=str(path)) from None
        for key in _IDENTITY:
            if key in recorded and recorded[key] != mine[key]:
                raise ConfigError(
                    f"this folder holds a benchmark with {key}={recorded[key]!r}, not {mine[key]!r}; "
                    "a different benchmark needs its own run folder (`aiflows bench cc` picks one per key)",
                    file=str(path),
                    key=key,
                )
    if not write:
        return
    config.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    if path.is_file():
        started = float(recorded.get("started_at") or started)
    record = {**mine, "key": config.key(), "limit": config.limit, "started_at": started}
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def load_config(folder: Path) -> dict[str, Any]:
    """The recorded description of the benchmark in `folder` (empty when there is none)."""
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError):
        return {}
