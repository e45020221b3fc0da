"""Functions the YAML example (pipeline.yaml) refers to as `module:function`."""

from __future__ import annotations


def count_words(items: list[str]) -> dict:
    return {"count": len(items), "size": "long" if len(items) > 5 else "short"}


def say_short(count: int) -> dict:
    return {"verdict": f"short text ({count} words)"}


def say_long(count: int) -> dict:
    return {"verdict": f"long text ({count} words)"}
