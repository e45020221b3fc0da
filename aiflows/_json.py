"""Fast JSON for stores and wires (orjson), tolerant of keys and values JSON cannot spell."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps", "loads"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)  # plain JSON, the usual case: half again faster than with the options
    except orjson.JSONEncodeError:
        pass
    try:
        return orjson.dumps(value, default=str, option=_OPTIONS)
    except orjson.JSONEncodeError:  # integers beyond 64 bits, or keys like tuples
        return json.dumps(_spelled(value), default=str).encode()


def _spelled(value: Any) -> Any:
    """`value` with every dict key JSON cannot spell written as text: a record is kept, not refused."""
    if isinstance(value, dict):
        return {
            (k if isinstance(k, str | int | float | bool) or k is None else str(k)): _spelled(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_spelled(v) for v in value]
    return value


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)
