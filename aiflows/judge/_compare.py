"""The Kattis default output validator: token-wise comparison with optional float tolerance.

Flags (from problem.yaml `validator_flags`): `case_sensitive`, `space_change_sensitive`,
`float_absolute_tolerance E`, `float_relative_tolerance E`, `float_tolerance E` (both).
By default case and the amount of whitespace do not matter and numbers compare as text.
"""

from __future__ import annotations

import math
import re

from pydantic import BaseModel

__all__ = ["CompareFlags", "Comparison", "compare_output"]

_SPACE = re.compile(rb"\s+")
_SPACE_KEEP = re.compile(rb"(\s+)")
NEWLINE = b"\n"
_WORD = re.compile(rb"\S+")
_ANY_TOKEN = re.compile(rb"\s+|\S+")


class CompareFlags(BaseModel):
    case_sensitive: bool = False
    space_change_sensitive: bool = False
    float_abs: float | None = None
    float_rel: float | None = None

    @classmethod
    def parse(cls, flags: list[str]) -> CompareFlags:
        """Read Kattis validator flags; raise ValueError naming a flag it does not know."""
        out = cls()
        words = " ".join(flags).split()
        i = 0
        while i < len(words):
            word = words[i]
            if word in ("case_sensitive", "space_change_sensitive"):
                out = out.model_copy(update={word: True})
                i += 1
                continue
            if word in ("float_absolute_tolerance", "float_relative_tolerance", "float_tolerance"):
                if i + 1 >= len(words):
                    raise ValueError(f"validator flag {word} needs a number")
                try:
                    value = float(words[i + 1])
                except ValueError:
                    raise ValueError(f"validator flag {word}: {words[i + 1]!r} is not a number") from None
                if word != "float_relative_tolerance":
                    out = out.model_copy(update={"float_abs": value})
                if word != "float_absolute_tolerance":
                    out = out.model_copy(update={"float_rel": value})
                i += 2
                continue
            raise ValueError(f"unknown validator flag {word!r}")
        return out


class Comparison(BaseModel):
    """Whether the output matched, and where it first did not."""

    ok: bool
    message: str = ""  # "line 2, token 3: expected '5', got '4'"


def _as_float(token: bytes) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) or token.lower().lstrip(b"+-") in (b"inf", b"nan") else None


def _tokens_equal(want: bytes, got: bytes, flags: CompareFlags) -> bool:
    if want == got:
        return True
    if not flags.case_sensitive and want.lower() == got.lower():
        return True
    if flags.float_abs is None and flags.float_rel is None:
        return False
    a, b = _as_float(want), _as_float(got)
    if a is None or b is None:
        return False
    if a == b:
        return True
    if flags.float_abs is not None and abs(a - b) <= flags.float_abs:
        return True
    return flags.float_rel is not None and abs(a - b) <= flags.float_rel * abs(a)


def _locate(data: bytes, index: int, space_sensitive: bool) -> str:
    """Where the index-th token (as split for comparison) starts: 'line L'."""
    pattern = _ANY_TOKEN if space_sensitive else _WORD
    end = len(data)
    for i, match in enumerate(pattern.finditer(data)):
        if i == index:
            end = match.start()
            break
    return f"line {data.count(NEWLINE, 0, end) + 1}"


def _show(token: bytes) -> str:
    text = token.decode("utf-8", errors="replace")
    return repr(text if len(text) <= 60 else text[:57] + "...")


def compare_output(answer: bytes, output: bytes, flags: CompareFlags) -> Comparison:
    """Compare the judge's answer with the program's output the way Kattis does."""
    if flags.space_change_sensitive:
        want = [t for t in _SPACE_KEEP.split(answer) if t]
        got = [t for t in _SPACE_KEEP.split(output) if t]
    else:
        want, got = answer.split(), output.split()
    for i, (w, g) in enumerate(zip(want, got, strict=False)):
        if not _tokens_equal(w, g, flags):
            where = _locate(output, i, flags.space_change_sensitive)
            if w.isspace() or g.isspace():
                return Comparison(ok=False, message=f"{where}: whitespace differs: expected {_show(w)}, got {_show(g)}")
            return Comparison(ok=False, message=f"{where}, token {i + 1}: expected {_show(w)}, got {_show(g)}")
    if len(got) > len(want):
        where = _locate(output, len(want), flags.space_change_sensitive)
        return Comparison(ok=False, message=f"{where}: extra output {_show(got[len(want)])} after the expected end")
    if len(got) < len(want):
        return Comparison(
            ok=False, message=f"output ended early: expected {_show(want[len(got)])} as token {len(got) + 1}"
        )
    return Comparison(ok=True)
