"""Moving keys between a caller's data and a subflow's input or output.

A `KeyMap` is applied in a fixed order: rename, copy, set, extract, select, drop. Keys may be
dotted (`problem.statement`) to reach into nested dicts. The shorthand `{"target": "source"}`
means "build a dict whose `target` is the caller's `source`", which covers most uses:

    Step(coder, inputs={"statement": "problem.text"}, outputs={"code": "answer"})
"""

from __future__ import annotations

import copy as _copy
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

__all__ = ["Extract", "KeyMap", "MISSING", "as_keymap", "get_path", "set_path"]

MISSING = object()


def get_path(data: dict[str, Any], dotted: str, default: Any = MISSING) -> Any:
    """The value at a dotted path; `KeyError` naming the missing part if there is none and no default."""
    value: Any = data
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            if default is not MISSING:
                return default
            raise KeyError(f"no key '{dotted}' (missing '{part}'; available: {_keys(value)})")
    return value


def set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    target = data
    for part in parts[:-1]:
        nxt = target.get(part)
        if not isinstance(nxt, dict):
            nxt = target[part] = {}
        target = nxt
    target[parts[-1]] = value


def _delete_path(data: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    target: Any = data
    for part in parents:
        target = target.get(part) if isinstance(target, dict) else None
    if isinstance(target, dict):
        target.pop(last, None)


def _keys(value: Any) -> str:
    return ", ".join(sorted(map(str, value))) if isinstance(value, dict) else type(value).__name__


class Extract(BaseModel):
    """Take the first match of `pattern` in the text at `source` (e.g. the code block of an answer)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: str = Field(alias="from")
    pattern: str
    group: int | str = 1
    default: Any = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return pattern

    def apply(self, data: dict[str, Any]) -> Any:
        text = get_path(data, self.source, "")
        match = re.search(self.pattern, str(text), re.DOTALL)
        return match.group(self.group) if match else self.default


class KeyMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rename: dict[str, str] = Field(default_factory=dict)  # old -> new
    copy_: dict[str, str] = Field(default_factory=dict, alias="copy")  # source -> target
    set: dict[str, Any] = Field(default_factory=dict)  # target -> constant
    extract: dict[str, Extract] = Field(default_factory=dict)  # target -> extraction
    select: list[str] | None = None  # keep only these (dotted) keys
    drop: list[str] = Field(default_factory=list)
    _pick: dict[str, str] | None = PrivateAttr(default=None)

    @classmethod
    def pick(cls, mapping: dict[str, str]) -> KeyMap:
        """The shorthand `{target: source}`: a dict holding exactly those targets."""
        keymap = cls()
        keymap._pick = dict(mapping)
        return keymap

    def targets(self) -> list[str] | None:
        """Top-level keys this map produces, when that is known without the data."""
        if self._pick is not None:
            return [t.split(".")[0] for t in self._pick]
        if self.select is not None:
            return [s.split(".")[0] for s in self.select]
        return None

    def sources(self) -> list[str]:
        """Keys this map surely reads from its input (select may also name keys it made itself)."""
        if self._pick is not None:
            return list(self._pick.values())
        return [*self.rename, *self.copy_, *(e.source for e in self.extract.values())]

    def apply(self, data: dict[str, Any]) -> dict[str, Any]:
        if self._pick is not None:
            out: dict[str, Any] = {}
            for target, source in self._pick.items():
                set_path(out, target, get_path(data, source))
            return out
        out = _copy.copy(data)
        for old, new in self.rename.items():
            value = get_path(out, old)
            _delete_path(out, old)
            set_path(out, new, value)
        for source, target in self.copy_.items():
            set_path(out, target, _copy.deepcopy(get_path(out, source)))
        for target, value in self.set.items():
            set_path(out, target, value)
        for target, extraction in self.extract.items():
            set_path(out, target, extraction.apply(out))
        if self.select is not None:
            picked: dict[str, Any] = {}
            for key in self.select:
                set_path(picked, key, get_path(out, key))
            out = picked
        for key in self.drop:
            _delete_path(out, key)
        return out


def as_keymap(spec: KeyMap | dict[str, Any] | None) -> KeyMap | None:
    """Accept a `KeyMap`, the `{target: source}` shorthand, or a dict of KeyMap fields."""
    if spec is None or isinstance(spec, KeyMap):
        return spec
    if not isinstance(spec, dict):
        raise TypeError(f"a key map is a dict or KeyMap, not {type(spec).__name__}")
    if set(spec) <= {"rename", "copy", "set", "extract", "select", "drop"}:
        return KeyMap.model_validate(spec)
    for target, source in spec.items():
        if not isinstance(source, str):
            raise TypeError(f"key map entry '{target}' must name a source key (a string), not {source!r}")
    return KeyMap.pick(spec)
