"""How every trainer reads its config: a YAML file first, then `key=value` overrides, checked by one model.

One loader, so `aiflows train NAME config.yaml key=value` reads and reports alike for every NAME:
a `ConfigError` names the file (or `<overrides>`), the key, and for bad YAML the line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from aiflows.exceptions import ConfigError
from aiflows.flow import describe_errors

__all__ = ["OVERRIDES", "apply_overrides", "load_config", "read_file", "split_args"]

OVERRIDES = "<overrides>"  # where a config comes from when no file is given

M = TypeVar("M", bound=BaseModel)


def read_file(file: str | Path) -> dict[str, Any]:
    """The mapping of keys to values in a YAML file (empty for an empty file).

    Raises:
        ConfigError: the file is missing, is not valid YAML, or holds something other than a mapping.
    """
    path = Path(file)
    if not path.is_file():
        raise ConfigError("no such file", file=str(path))
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(_yaml_problem(exc), file=str(path)) from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"expected a mapping at the top, found {type(loaded).__name__}", file=str(path))
    return loaded


def apply_overrides(values: dict[str, Any], overrides: Sequence[str]) -> None:
    """Set each `key=value` of `overrides` in `values`, the value read as YAML (`steps=5` is an int).

    Raises:
        ConfigError: an override is not key=value, or its value is not valid YAML.
    """
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not key=value")
        try:
            values[key] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: {_yaml_problem(exc)}", key=key) from None


def load_config(
    model: type[M],
    file: str | Path | None,
    overrides: Sequence[str] = (),
    *,
    from_file: Callable[[dict[str, Any], Path], None] | None = None,
) -> M:
    """`model` from a YAML file (optional), then `key=value` overrides.

    Args:
        model: the config record; it refuses unknown keys and bad values.
        file: the YAML file, or None for overrides alone.
        overrides: `key=value` items applied after the file.
        from_file: adjusts the file's values before the overrides, given the file's path (a path in
            the file may be read relative to the file).

    Raises:
        ConfigError: the file or an override cannot be read, or the values do not fit `model`. A value
            that does not fit names each bad key in the message, and the first one as `.key`.
    """
    values: dict[str, Any] = {}
    if file is not None:
        values.update(read_file(file))
        if from_file is not None:
            from_file(values, Path(file))
    apply_overrides(values, overrides)
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        error = ConfigError(describe_errors(exc), file=str(file) if file is not None else OVERRIDES)
        # The message already names every bad key beside its problem; `.key` lets a caller point at the first.
        error.key = ".".join(str(p) for p in exc.errors()[0]["loc"]) or None
        raise error from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line, with where it is (the parser's own text spans several lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"not valid YAML{where}: {problem}"


def split_args(config: str | None, overrides: Sequence[str]) -> tuple[str | None, list[str]]:
    """The config file and the overrides of `aiflows train NAME [FILE] [KEY=VALUE ...]`.

    The file is optional, so argparse hands the first override over as the file when none is given.
    """
    if config is not None and "=" in config:
        return None, [config, *overrides]
    return config, list(overrides)
