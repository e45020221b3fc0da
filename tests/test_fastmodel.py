"""The fast path through pydantic's slots builds the same models validation does.

`aiflows._fastmodel` sets the four slots of `BaseModel` directly. A pydantic release that renames
or adds a slot would make those models subtly wrong; these tests fail first, naming the version.
"""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from pydantic import BaseModel

from aiflows import _fastmodel
from aiflows.flow import Data, free_form
from aiflows.messages import Message, make_request, trusted_message
from aiflows.records import RunResult

VERSION = f"pydantic {pydantic.VERSION}"
SLOTS = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def state(model: BaseModel) -> tuple[Any, ...]:
    """Everything a model instance holds, slot by slot."""
    return (
        type(model),
        model.__dict__,
        model.__pydantic_fields_set__,
        model.__pydantic_extra__,
        model.__pydantic_private__,
    )


def test_base_model_has_exactly_the_slots_the_fast_path_sets():
    assert BaseModel.__slots__ == SLOTS, (
        f"{VERSION} changed BaseModel's slots to {BaseModel.__slots__}: aiflows._fastmodel sets {SLOTS}; "
        "update it (and its setters) before using this pydantic"
    )
    for name in SLOTS:
        assert hasattr(BaseModel.__dict__.get(name), "__set__"), f"{VERSION}: BaseModel.{name} is no settable slot"


def test_trusted_equals_validated_model():
    values = {"run_id": "r1", "status": "done", "output": {"x": 1}, "error": None}
    fast = _fastmodel.trusted(RunResult, dict(values))
    slow = RunResult.model_validate(values)
    assert state(fast) == state(slow), f"{VERSION}: a trusted RunResult differs from a validated one"
    assert fast == slow and fast.unwrap() == {"x": 1}


def test_free_form_data_equals_constructed_data():
    fast = free_form({"a": 1, "b": [2]})
    slow = Data.model_construct(a=1, b=[2])
    assert state(fast) == state(slow), f"{VERSION}: free-form Data differs from Data.model_construct"
    assert fast == Data.model_validate({"a": 1, "b": [2]}) and fast.model_dump() == {"a": 1, "b": [2]}


def test_messages_built_on_the_hot_path_equal_validated_ones():
    request = make_request("caller", "callee", {"x": 1}, "run", "default", "/0", "parent")
    again = Message.model_validate(request.model_dump())
    assert state(request) == state(again), f"{VERSION}: make_request's Message differs from a validated one"
    reply = request.reply({"y": 2})
    assert state(reply) == state(Message.model_validate(reply.model_dump())), f"{VERSION}: a reply differs"
    assert Message.from_json(reply.to_wire()) == reply
    assert trusted_message(dict(reply.__dict__)) == reply


def test_fast_models_behave_like_models():
    fast = _fastmodel.trusted(RunResult, {"run_id": "r1", "status": "failed", "output": None, "error": None})
    assert fast.model_copy(update={"status": "done"}).status == "done"
    assert RunResult.model_validate_json(fast.model_dump_json()) == fast
    frozen = make_request("a", "b", {}, "run", "default", "")
    with pytest.raises(pydantic.ValidationError):
        frozen.path = "x"  # type: ignore[misc]
