"""Pydantic models built without validation, through the slots every model instance has.

The runtime builds a few models on every call (a request, its answer, free-form data) from values
it made itself. Validating them costs more than the rest of a call's bookkeeping, and
`model_construct` more than validating; setting the four slots of `BaseModel` directly costs a
third of `object.__setattr__`. This module is the one place that knows those slots: if a pydantic
release renames them, the import fails here (and `tests/test_fastmodel.py` says which version),
not somewhere deep in a call.

    from aiflows._fastmodel import trusted
    record = trusted(RunResult, {"run_id": "r1", "status": "done", "output": {}, "error": None})

Hot paths that cannot afford a function call inline the setters themselves (see `make_request`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["new_instance", "set_dict", "set_extra", "set_fields_set", "set_private", "trusted", "with_extra"]

Model = TypeVar("Model", bound=BaseModel)

_slots = BaseModel.__dict__
# What each slot holds: the field values; the names of the fields given; the values of extra keys
# (None unless the model allows extra); the private attributes (None when the model has none).
set_dict: Callable[[BaseModel, dict[str, Any]], None] = _slots["__dict__"].__set__
set_fields_set: Callable[[BaseModel, set[str]], None] = _slots["__pydantic_fields_set__"].__set__
set_extra: Callable[[BaseModel, dict[str, Any] | None], None] = _slots["__pydantic_extra__"].__set__
set_private: Callable[[BaseModel, dict[str, Any] | None], None] = _slots["__pydantic_private__"].__set__
new_instance: Callable[[type[Model]], Model] = object.__new__  # an instance whose slots are not set yet


def trusted(model: type[Model], values: dict[str, Any]) -> Model:
    """`model` from values the runtime made itself, every field given in order, without validation.

    For records made on a caller's hot path, where validating costs more than the rest of the
    bookkeeping. Only for models without private attributes or extra keys.
    """
    record = new_instance(model)
    set_dict(record, values)
    set_fields_set(record, set(values))
    set_extra(record, None)
    set_private(record, None)
    return record


def with_extra(model: type[Model], extra: dict[str, Any]) -> Model:
    """A model that declares no fields and allows extra keys (`Data`), holding `extra`, without validation."""
    record = new_instance(model)
    set_dict(record, {})
    set_fields_set(record, set())
    set_extra(record, extra)
    set_private(record, None)
    return record
