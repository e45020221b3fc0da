"""Reading YAML files into pydantic models with errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ._errors import HubError

__all__ = ["describe_validation_error", "parse_model", "read_model"]

M = TypeVar("M", bound=BaseModel)

# libyaml's loader is ~10x faster than the pure-Python one; every hub.load reads the lock and a manifest.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def describe_validation_error(exc: ValidationError) -> str:
    """`key 'a.b': problem; key 'c': problem`, in the words a YAML author uses."""
    problems = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required key is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown key"
        problems.append(f"key '{key}': {msg}")
    return "; ".join(problems)


def parse_model(text: str | bytes, model: type[M], where: str) -> M:
    """Parse YAML `text` into `model`; every error starts with `where`."""
    try:
        raw = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise HubError(f"{where}: not valid YAML: {exc}") from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise HubError(f"{where}: expected a mapping of keys, got {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise HubError(f"{where}: {describe_validation_error(exc)}") from None


def read_model(path: Path, model: type[M]) -> M:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise HubError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_model(text, model, str(path))
