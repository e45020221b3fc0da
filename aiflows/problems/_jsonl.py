"""Read JSON-lines files (plain or gzip) line by line, reporting a bad line instead of dying."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiflows.problems.errors import ProblemError

__all__ = ["first_record", "iter_jsonl"]


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any] | ProblemError]]:
    """Yield (line number, record) or (line number, error) for each non-empty line.

    A line that is not JSON, or not a JSON object, yields a `ProblemError` naming the file and
    line; the caller decides whether that ends the load.

    Raises:
        ProblemError: the file cannot be opened or is not valid gzip/UTF-8.
    """
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as stream:
            for number, line in enumerate(stream, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield (
                        number,
                        ProblemError(
                            f"not valid JSON: {exc.msg} at column {exc.colno}", path=path, key=f"line {number}"
                        ),
                    )
                    continue
                if not isinstance(record, dict):
                    yield (
                        number,
                        ProblemError(
                            f"expected a JSON object, found {type(record).__name__}", path=path, key=f"line {number}"
                        ),
                    )
                    continue
                yield number, record
    except OSError as exc:  # includes gzip.BadGzipFile
        raise ProblemError(f"cannot read: {exc}", path=path) from exc
    except UnicodeDecodeError as exc:
        raise ProblemError(f"not UTF-8 text: {exc.reason}", path=path) from exc


def first_record(path: Path) -> dict[str, Any] | None:
    """The first valid JSON object in the file (to detect its schema), or None."""
    for _, record in iter_jsonl(path):
        if isinstance(record, dict):
            return record
    return None
