"""Every error aiflows raises on purpose.

    AiflowsError
    ├── ConfigError        a flow, YAML file or setting is wrong (names file, key, what was expected)
    ├── SchemaError        data does not fit a flow's input, output or state schema
    ├── MessageError       a message on the bus is malformed
    ├── RunNotFound        no run with that id in the store
    ├── FlowError          a flow answered with an error (carries address, type, message, run id)
    │   ├── FlowTimeout    the flow did not answer in time
    │   └── Suspended      the flow is waiting for something outside (a person): resume the run later

A handler that raises anything else reaches its caller as a `FlowError` whose `type` is the
original exception's class name, so callers branch on data, never on import paths.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AiflowsError",
    "ConfigError",
    "FlowError",
    "FlowTimeout",
    "MessageError",
    "RunNotFound",
    "SchemaError",
    "Suspended",
]


class AiflowsError(Exception):
    """Base of every aiflows error."""


class ConfigError(AiflowsError):
    """A configuration is wrong; says where (file and key) and what was expected."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        self.file = file
        self.key = key
        where = ", ".join(p for p in (f"file {file}" if file else "", f"key '{key}'" if key else "") if p)
        super().__init__(f"{where}: {message}" if where else message)


class SchemaError(AiflowsError):
    """Data does not fit a flow's schema."""

    def __init__(self, message: str, *, address: str | None = None) -> None:
        self.address = address
        self.detail = message
        super().__init__(f"flow '{address}': {message}" if address else message)


class MessageError(AiflowsError):
    """A message could not be read or does not fit the envelope."""


class RunNotFound(AiflowsError):
    """No run with this id is recorded in the store."""


class FlowError(AiflowsError):
    """A flow answered with an error.

    The fields say where it started (`address`, `path` within the run), what it was (`type`, the
    original exception's class name) and in which run, so that the top of a deep tree still
    sees the leaf that failed.
    """

    def __init__(
        self,
        message: str,
        *,
        address: str,
        type: str = "FlowError",
        run_id: str = "",
        path: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.type = type
        self.message = message
        self.run_id = run_id
        self.path = path
        self.details = details or {}
        super().__init__(f"{type} in flow '{address}' (run {run_id}): {message}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.type,
            "message": self.message,
            "run_id": self.run_id,
            "path": self.path,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, info: dict[str, Any]) -> FlowError:
        kinds: dict[str, type[FlowError]] = {"Timeout": FlowTimeout, "Suspended": Suspended}
        kind = kinds.get(info.get("type", ""), cls)
        return kind(
            info.get("message", ""),
            address=info.get("address", "?"),
            type=info.get("type", "FlowError"),
            run_id=info.get("run_id", ""),
            path=info.get("path", ""),
            details=info.get("details") or {},
        )


class FlowTimeout(FlowError):
    """A flow did not answer within its time limit."""


class Suspended(FlowError):
    """Raised by a handler that must wait for the outside world (a person's answer).

    It is not an error of the run: the run's status becomes "suspended", nothing about the
    waiting call is journaled, and `Runtime.resume(run_id)` later replays the run up to it.
    """

    def __init__(
        self, message: str = "waiting", *, address: str = "", run_id: str = "", path: str = "", **kwargs: object
    ):
        kwargs.pop("type", None)
        super().__init__(message, address=address, type="Suspended", run_id=run_id, path=path, **kwargs)  # type: ignore[arg-type]
