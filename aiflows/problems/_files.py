"""Small readers shared by the loaders: YAML and text files that fail with a `ProblemError`."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import yaml

from aiflows.problems.errors import ProblemError

__all__ = ["atomic_write", "default_cache_dir", "read_text", "read_yaml_mapping", "content_digest"]


def read_text(path: Path, *, problem: str | None = None) -> str:
    """Read a text file as UTF-8, replacing undecodable bytes (statements come from many editors)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ProblemError(f"cannot read: {exc.strerror or exc}", problem=problem, path=path) from exc


def read_yaml_mapping(path: Path, *, problem: str | None = None) -> dict[str, Any]:
    """Parse a YAML file whose top level must be a mapping; an empty file is an empty mapping."""
    text = read_text(path, problem=problem)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise ProblemError(f"invalid YAML{where}: {reason}", problem=problem, path=path) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProblemError(
            f"expected a mapping at the top level, found {type(data).__name__}", problem=problem, path=path
        )
    return data


def default_cache_dir() -> Path:
    """Where derived test files go unless the caller names a folder: `$AIFLOWS_HOME/cache/problems`.

    `AIFLOWS_HOME` defaults to `~/.aiflows`, as for the rest of aiflows' runs and caches.
    """
    home = os.environ.get("AIFLOWS_HOME")
    return (Path(home) if home else Path.home() / ".aiflows") / "cache" / "problems"


def content_digest(*parts: str | bytes) -> str:
    """A short, stable digest that names cache folders by their content."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8") if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write a file so that readers see the old content or the new, never half of it.

    Loaders running side by side (several benchmark workers) may write the same cache file.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if path.exists() and path.stat().st_size == len(raw) and path.read_bytes() == raw:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, path)
