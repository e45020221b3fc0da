"""The envelope every flow exchanges: one immutable pydantic model, JSON on the wire.

A request names its recipient address and where the answer goes (`reply_to`); the answer is a
`reply` carrying the output or an `error` carrying `ErrorInfo`, with `correlation_id` pointing at
the request. `run_id`, `path` and `parent_id` place a message in its run: the path is the call's
place in the handler that made it, which is what the run journal is keyed by.
"""

from __future__ import annotations

import random
import time
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._fastmodel import new_instance as _new
from ._fastmodel import set_dict as _set_dict
from ._fastmodel import set_extra as _set_extra
from ._fastmodel import set_fields_set as _set_fields_set
from ._fastmodel import set_private as _set_private
from .exceptions import FlowError, MessageError

__all__ = [
    "SCHEMA_VERSION",
    "ErrorInfo",
    "Message",
    "MessageKind",
    "make_request",
    "new_id",
    "trusted_message",
]

SCHEMA_VERSION = 1

MessageKind = Literal["request", "reply", "error", "event"]


def trusted_message(values: dict[str, Any]) -> Message:
    """Build a Message from values the runtime made itself (every field, in order), skipping validation.

    Same result as `Message.model_construct` with every field given, at a fraction of its cost:
    this runs twice per call on the hot path.
    """
    msg = _new(Message)
    _set_dict(msg, values)
    _set_fields_set(msg, _ALL_FIELDS)  # frozen models never change it: one set serves all
    _set_extra(msg, None)
    _set_private(msg, None)
    return msg


_trusted = trusted_message  # the name `aiflows.bus.redis` still imports


def make_request(
    sender: str,
    recipient: str,
    data: dict[str, Any],
    run_id: str,
    session: str,
    path: str,
    parent_id: str | None = None,
    reply_to: str | None = None,
) -> Message:
    """`Message.request` with positional arguments, for the runtime's hot path (every call makes one)."""
    values = _REQUEST.copy()
    values["id"] = _randbits(96).to_bytes(12, "big").hex()  # new_id(), inlined: this runs on every call
    values["sender"] = sender
    values["recipient"] = recipient
    values["reply_to"] = reply_to if reply_to is not None else sender
    values["parent_id"] = parent_id
    values["run_id"] = run_id
    values["session"] = session
    values["path"] = path
    values["created_at"] = _time()
    values["data"] = data
    msg = _new(Message)  # trusted_message(values), inlined
    _set_dict(msg, values)
    _set_fields_set(msg, _ALL_FIELDS)
    _set_extra(msg, None)
    _set_private(msg, None)
    return msg


def new_id() -> str:
    """A random 96-bit id (24 hex digits): unique across processes without coordination.

    Drawn from `random` rather than the OS: ids name messages, they guard nothing, and a system
    call per message would be the most expensive part of a local call. The random module is
    reseeded in forked children, so workers never repeat each other's ids. (`bytes.hex` spells
    it in half the time `%x` formatting takes: two ids are made per call.)
    """
    return _randbits(96).to_bytes(12, "big").hex()


_randbits = random.getrandbits


class ErrorInfo(BaseModel):
    """What went wrong, where, in which run."""

    model_config = ConfigDict(frozen=True)

    address: str
    type: str
    message: str
    run_id: str = ""
    path: str = ""
    details: dict[str, Any] = Field(default_factory=dict)

    def to_exception(self) -> FlowError:
        return FlowError.from_dict(self.model_dump())

    @classmethod
    def from_exception(cls, exc: BaseException, *, address: str, run_id: str, path: str) -> ErrorInfo:
        if isinstance(exc, FlowError):  # keep the leaf that failed, not the composite that passed it on
            info = exc.to_dict()
            if not info["address"]:
                info["address"] = address
            if not info["run_id"]:
                info["run_id"] = run_id
            if not info["path"]:
                info["path"] = path
            return cls.model_construct(**info)
        message = getattr(exc, "detail", None) or str(exc)  # SchemaError names the flow itself: say it once
        return cls.model_construct(
            address=address, type=type(exc).__name__, message=message, run_id=run_id, path=path, details={}
        )


class Message(BaseModel):
    """One message on a bus."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = SCHEMA_VERSION
    id: str
    kind: MessageKind
    sender: str
    recipient: str
    reply_to: str | None = None
    correlation_id: str | None = None  # on a reply/error/event: the request it belongs to
    parent_id: str | None = None  # on a request: the request whose handler made this call
    run_id: str
    session: str = "default"
    path: str = ""
    created_at: float
    data: dict[str, Any] = Field(default_factory=dict)
    error: ErrorInfo | None = None

    # Builders skip validation: they are only fed values the runtime already trusts. They fill a
    # copy of a template: copying a 14-key dict and setting ten keys is faster than a 14-key literal.
    @classmethod
    def request(
        cls,
        *,
        sender: str,
        recipient: str,
        data: dict[str, Any],
        run_id: str,
        session: str = "default",
        path: str = "",
        parent_id: str | None = None,
        reply_to: str | None = None,
    ) -> Message:
        return make_request(sender, recipient, data, run_id, session, path, parent_id, reply_to)

    def _answer(self, kind: MessageKind, data: dict[str, Any], error: ErrorInfo | None) -> Message:
        asked = self.__dict__
        values = asked.copy()  # session, run_id, path, parent_id carry over
        values["v"] = SCHEMA_VERSION
        values["id"] = _randbits(96).to_bytes(12, "big").hex()  # new_id(), inlined: this runs on every call
        values["kind"] = kind
        values["sender"] = asked["recipient"]
        values["recipient"] = asked["reply_to"] or asked["sender"]
        values["reply_to"] = None
        values["correlation_id"] = asked["id"]
        values["created_at"] = _time()
        values["data"] = data
        values["error"] = error
        return trusted_message(values)

    def reply(self, data: dict[str, Any]) -> Message:
        return self._answer("reply", data, None)

    def fail(self, error: ErrorInfo) -> Message:
        return self._answer("error", {}, error)

    def event(self, kind: str, data: dict[str, Any]) -> Message:
        """An event raised while handling this request (a streamed token, usage, progress)."""
        # `_answer("event", ...)` and `trusted_message`, inlined: a model call raises one (usage).
        asked = self.__dict__
        values = asked.copy()
        values["v"] = SCHEMA_VERSION
        values["id"] = _randbits(96).to_bytes(12, "big").hex()
        values["kind"] = "event"
        values["sender"] = asked["recipient"]
        values["recipient"] = asked["reply_to"] or asked["sender"]
        values["reply_to"] = None
        values["correlation_id"] = asked["id"]
        values["created_at"] = _time()
        values["data"] = {"type": kind, **data}
        values["error"] = None
        msg = _new(Message)
        _set_dict(msg, values)
        _set_fields_set(msg, _ALL_FIELDS)
        _set_extra(msg, None)
        _set_private(msg, None)
        return msg

    def to_json(self) -> str:
        return self.model_dump_json()

    def to_wire(self) -> bytes:
        """The message as JSON bytes for a stream: orjson when it holds no model (the usual case, at
        a third of pydantic's cost), pydantic otherwise. Either reads back with `from_json`."""
        values = self.__dict__
        if values["error"] is None:
            try:
                return orjson.dumps(values)
            except orjson.JSONEncodeError:  # keys or values plain JSON cannot spell: pydantic decides
                pass
        try:
            return self.model_dump_json().encode()
        except ValueError as exc:  # pydantic's serialization error: a value no JSON can carry
            raise MessageError(f"a {self.kind} to '{self.recipient}' cannot be written as JSON: {exc}") from None

    @classmethod
    def from_json(cls, raw: str | bytes) -> Message:
        """Read a message from the wire; say exactly what is wrong with a bad one."""
        try:
            msg = cls.model_validate_json(raw)
        except ValidationError as exc:
            version = _peek_version(raw)
            if version is not None and version > SCHEMA_VERSION:
                raise MessageError(
                    f"message schema v{version} is newer than this aiflows understands (v{SCHEMA_VERSION}); "
                    "upgrade aiflows on this side"
                ) from None
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:5]
            )
            raise MessageError(f"malformed message: {problems}") from None
        if msg.v > SCHEMA_VERSION:
            raise MessageError(
                f"message schema v{msg.v} is newer than this aiflows understands (v{SCHEMA_VERSION}); "
                "upgrade aiflows on this side"
            )
        return msg


def _peek_version(raw: str | bytes) -> int | None:
    import json

    try:
        value = json.loads(raw)
    except ValueError:
        return None
    version = value.get("v") if isinstance(value, dict) else None
    return version if isinstance(version, int) else None


_ALL_FIELDS = set(Message.model_fields)
_REQUEST: dict[str, Any] = {name: None for name in Message.model_fields} | {"v": SCHEMA_VERSION, "kind": "request"}
_time = time.time
