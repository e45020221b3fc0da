"""What a benchmark run is: one flat, typed record, saved next to its results.

A rerun into the same output folder must be the same benchmark (flow, model, samples); anything
else would mix results, so `check_resumable` refuses it and says which key differs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aiflows.exceptions import ConfigError

__all__ = ["RUN_FILE", "BenchConfig", "check_resumable", "default_flows_dir"]

RUN_FILE = "run.json"
# Keys that define the benchmark: a rerun that changes one of these would mix results.
_IDENTITY = ("flow", "model", "api_base", "samples", "temperature", "flow_config")


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
    progress: bool = True  # show a progress bar

    def sampling_temperature(self) -> float:
        if self.temperature is not None:
            return self.temperature
        return 0.0 if self.samples == 1 else 0.8

    def identity(self) -> dict[str, Any]:
        values = self.model_dump(mode="json")
        values["temperature"] = self.sampling_temperature()
        return {key: values[key] for key in _IDENTITY}


def check_resumable(config: BenchConfig) -> None:
    """Write `run.json` in the output folder, or check that the one there is the same benchmark.

    Raises:
        ConfigError: the folder holds another benchmark (names the differing key), or its
            `run.json` is unreadable.
    """
    path = config.out / RUN_FILE
    mine = config.identity()
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read the run description ({exc})", file=str(path)) from None
        for key in _IDENTITY:
            if key in recorded and recorded[key] != mine[key]:
                raise ConfigError(
                    f"this folder holds a benchmark with {key}={recorded[key]!r}, not {mine[key]!r}; "
                    "use another --out to run a different one",
                    file=str(path),
                    key=key,
                )
    config.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**mine, "problems": config.problems}, indent=2) + "\n", encoding="utf-8")


def load_config(folder: Path) -> dict[str, Any]:
    """The recorded description of the benchmark in `folder` (empty when there is none)."""
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError):
        return {}
