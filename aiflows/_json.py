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
    except orjson.JSONEncodeError:  # integers beyond 64 bits, for one: the standard library spells them
        return json.dumps(value, default=str).encode()


def loads(raw: bytes | str) -> Any:
    return orjson.loads(raw)
