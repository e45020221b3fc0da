from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from aiflows import Message, MessageError
from aiflows.messages import SCHEMA_VERSION, ErrorInfo


def request() -> Message:
    return Message.request(sender="a", recipient="b", data={"x": [1, 2]}, run_id="r1", path="/0")


def test_round_trip_through_json_is_exact():
    msg = request()
    assert Message.from_json(msg.to_json()) == msg
    reply = msg.reply({"y": 1})
    assert (reply.kind, reply.correlation_id, reply.recipient, reply.path) == ("reply", msg.id, "a", "/0")


def test_messages_are_immutable():
    with pytest.raises(ValidationError):
        request().kind = "reply"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("not json", "malformed message"),
        ('{"id": "x"}', "kind: Field required"),
        (json.dumps({**json.loads(request().to_json()), "kind": "shout"}), "kind: Input should be"),
        (json.dumps({**json.loads(request().to_json()), "surprise": 1}), "surprise: Extra inputs are not permitted"),
    ],
)
def test_malformed_messages_say_what_is_wrong(raw, expected):
    with pytest.raises(MessageError, match=expected):
        Message.from_json(raw)


def test_a_newer_schema_version_is_named():
    newer = {**json.loads(request().to_json()), "v": SCHEMA_VERSION + 1, "new_field": 1}
    with pytest.raises(MessageError, match=f"schema v{SCHEMA_VERSION + 1} is newer"):
        Message.from_json(json.dumps(newer))


def test_the_wire_form_is_the_json_form_and_falls_back_to_pydantic():
    msg = request()
    assert msg.to_wire() == msg.to_json().encode()
    assert Message.from_json(msg.to_wire()) == msg
    failed = msg.fail(ErrorInfo(address="b", type="Boom", message="no"))
    assert Message.from_json(failed.to_wire()) == failed
    odd = msg.reply({"k": {1: "non-string key"}})  # plain JSON cannot spell it: pydantic writes it
    assert json.loads(odd.to_wire())["data"] == {"k": {"1": "non-string key"}}
