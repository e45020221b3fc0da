"""Run folders: one per benchmark key, so changed settings never reuse another run's records.

`aiflows bench cc --out BASE` keeps its runs under BASE (default `bench_runs/<flow>`), each in a
folder named by its model and key (`BASE/openai-gpt-4o-mini-3fa2c1d05e`). The same settings
again continue the same folder (its records are reused); anything that changes the answers (model,
endpoint, flow config, sampling, problem sources, judge settings) gets a new folder. `--resume RUN`
continues a run folder with the settings in its `run.json`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aiflows.exceptions import ConfigError

from .config import RUN_FILE, BenchConfig, load_config

__all__ = ["resume_config", "run_folder", "run_name"]

# What a run folder's run.json fixes when it is resumed (the rest may change between sessions).
_FIXED = ("flow", "model", "api_base", "samples", "temperature", "flow_config", "problems", "sandbox", "time_limit_cap")


def run_name(config: BenchConfig) -> str:
    """`<model>-<key>`: readable in a listing, unique per key."""
    model = config.model_choice().model
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", model.rsplit("/", 2)[-1] if model.startswith("local:") else model)
    return f"{slug.strip('-.')[:48] or 'model'}-{config.key()}"


def run_folder(config: BenchConfig, base: Path) -> BenchConfig:
    """`config` with `out` set to its run folder under `base` (the same folder for the same key).

    Raises:
        ConfigError: `base` is itself a run folder (continue it with --resume instead).
    """
    if (base / RUN_FILE).is_file():
        raise ConfigError(
            f"{base} is a run folder, not a folder of runs: continue it with --resume {base}, "
            "or give --out a folder that holds runs",
            file=str(base / RUN_FILE),
        )
    return config.model_copy(update={"out": base / run_name(config)})


def resume_config(run: Path, overrides: dict[str, Any]) -> BenchConfig:
    """The config of the run in folder `run`, with `overrides` for what may change between sessions.

    Raises:
        ConfigError: `run` holds no readable run.json, or an override changes the run's key.
    """
    recorded = load_config(run)
    if not recorded:
        raise ConfigError(f"no run to resume in {run} (no readable {RUN_FILE})", file=str(run / RUN_FILE))
    fixed = {key: recorded[key] for key in _FIXED if key in recorded}
    for key, value in overrides.items():
        if key in fixed and value is not None and value != fixed[key]:
            raise ConfigError(
                f"--resume {run}: that run has {key}={fixed[key]!r}, not {value!r}; "
                "leave it out to continue the run, or start a new run without --resume",
                file=str(run / RUN_FILE),
                key=key,
            )
    free = {k: v for k, v in overrides.items() if k not in _FIXED and v is not None}
    if "limit" in recorded and "limit" not in free:
        free["limit"] = recorded["limit"]
    return BenchConfig(**fixed, **free, out=run)
