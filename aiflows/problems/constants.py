"""`{{name}}` constants from problem.yaml, substituted as the problem package format says.

problem.yaml may hold `constants: {NAME: value}` or `NAME: {value: v, KEY: "text", ...}`;
`{{NAME}}` (or `{{NAME.value}}`) is the value and `{{NAME.KEY}}` the text given for that key.
They are substituted in validators (sources and arguments), statements and included code;
never in submissions: a submission that prints `{{NAME}}` prints those characters.

    >>> substitute("n <= {{MAX}}, {{MAX.TEXT}}", {"MAX": {"value": 10, "TEXT": "ten"}})
    'n <= 10, ten'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["constant_table", "substitute", "substitute_bytes"]

_NAME = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}\}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def constant_table(constants: Mapping[str, Any]) -> dict[str, str]:
    """`{"NAME": "5", "NAME.value": "5", "NAME.INT": "5"}` from problem.yaml's `constants`."""
    table: dict[str, str] = {}
    for name, value in constants.items():
        if isinstance(value, Mapping):
            for key, text in value.items():
                table[f"{name}.{key}"] = _text(text)
            if "value" in value:
                table[name] = _text(value["value"])
        elif isinstance(value, (str, int, float)):
            table[name] = table[f"{name}.value"] = _text(value)
    return table


def substitute(text: str, constants: Mapping[str, Any]) -> str:
    """`text` with every known `{{NAME}}` / `{{NAME.KEY}}` replaced; unknown ones stay as they are."""
    if "{{" not in text or not constants:
        return text
    table = constant_table(constants)
    return _NAME.sub(lambda m: table.get(m[1], m[0]), text)


def substitute_bytes(data: bytes, constants: Mapping[str, Any]) -> bytes:
    """`substitute` on a file's bytes; binary files (not UTF-8) are returned unchanged."""
    if b"{{" not in data or not constants:
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return substitute(text, constants).encode("utf-8")
