"""Flows: a name, schemas for what goes in and out, optional state and config, and a handler.

`AtomicFlow` does work; `CompositeFlow` calls subflows; `flow` turns a plain function into one.
A flow object is a definition: its state lives in the runtime's store, per (address, session),
so one object can serve many sessions and no flow can reach another's state.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any, ClassVar, Protocol, cast, get_type_hints

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from ._fastmodel import with_extra
from .context import Context, current_context
from .exceptions import ConfigError, SchemaError
from .messages import Message

__all__ = [
    "AtomicFlow",
    "CompositeFlow",
    "Data",
    "Flow",
    "FunctionFlow",
    "Runner",
    "default_runtime",
    "describe_errors",
    "flow",
    "free_form",
    "json_dump",
    "plain_values",
]


class Data(BaseModel):
    """Free-form data: the schema of flows that take or give any dict."""

    model_config = ConfigDict(extra="allow")


def free_form(values: dict[str, Any]) -> Data:
    """`Data(**values)` without validation: free-form input has nothing to check (a host wraps
    every free-form request with it)."""
    return with_extra(Data, dict(values))


_JSON_SCALARS = frozenset({str, int, bool, type(None)})


def plain_values(data: BaseModel) -> dict[str, Any] | None:
    """The values of free-form data when they are JSON scalars already (what `model_dump(mode="json")`
    would return, without its cost), else None. Non-finite floats are left to pydantic, which nulls them."""
    if type(data) is not Data or data.__dict__:
        return None
    values = data.__pydantic_extra__
    if values is None:
        return None
    for value in values.values():
        kind = type(value)
        if kind not in _JSON_SCALARS and not (kind is float and value - value == 0):
            return None
    return dict(values)


def json_dump(model: BaseModel) -> dict[str, Any]:
    """`model.model_dump(mode="json")`: its serializer called directly, without the keyword arguments
    `model_dump` passes on (a third of the cost for a small model; every output a handler returns as
    its schema's model goes through here)."""
    dumped: dict[str, Any] = model.__pydantic_serializer__.to_python(model, mode="json")
    return dumped


def describe_errors(exc: ValidationError, limit: int = 5) -> str:
    """The first `limit` problems of a validation error on one line, each with where it is."""
    parts = []
    for err in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


class RunOutcome(Protocol):
    """How a run ended: `aiflows.runtime.RunResult` is one."""

    def unwrap(self) -> dict[str, Any]:
        """The output, or the flow's error raised as `FlowError`."""


class Runner(Protocol):
    """What `Flow.run` runs a flow on: `aiflows.runtime.Runtime` is one."""

    async def run(
        self,
        target: Flow,
        data: Any = None,
        *,
        session: str = "default",
        run_id: str | None = None,
        on_event: Callable[[Message], None] | None = None,
    ) -> RunOutcome:
        """Run `target` on `data` to its end."""


class OwnRunner(Runner, Protocol):
    """A runner that is opened and closed around one use (`async with`)."""

    async def __aenter__(self) -> Runner: ...

    async def __aexit__(self, *exc_info: object) -> None: ...


RUNTIME_ENTRY_POINTS = "aiflows.runtime"  # the entry-point group naming the default runtime


def default_runtime() -> OwnRunner:
    """A new runtime of the kind `Flow.run` and `run_sync` use when given none: in-process bus, SQLite
    store under `$AIFLOWS_HOME` (`aiflows.runtime.Runtime()`).

    The runtime is built on flows, so this module cannot import it without an arrow pointing up.
    The aiflows distribution names it instead, in pyproject.toml's entry points (group
    `aiflows.runtime`, entry `embedded`), and it is looked up here when a flow runs without one.
    """
    try:
        (entry,) = distribution("aiflows").entry_points.select(group=RUNTIME_ENTRY_POINTS, name="embedded")
    except (PackageNotFoundError, ValueError):
        raise ConfigError(
            "aiflows is not installed, so it names no default runtime: `pip install -e .` in its checkout, "
            "or pass runtime=Runtime(...) and open it yourself"
        ) from None
    return cast(OwnRunner, entry.load()())


class Flow:
    """Base of every flow. Subclass `AtomicFlow` or `CompositeFlow` rather than this."""

    Input: ClassVar[type[BaseModel]] = Data
    Output: ClassVar[type[BaseModel]] = Data
    State: ClassVar[type[BaseModel] | None] = None
    Config: ClassVar[type[BaseModel] | None] = None

    def __init__(self, *, name: str | None = None, config: Any = None, timeout: float | None = None) -> None:
        self.name: str = name or type(self).__name__
        if "/" in self.name or not self.name:
            raise ConfigError(f"flow name '{self.name}' must be non-empty and contain no '/'")
        for role in ("Input", "Output"):
            schema = getattr(self, role)
            if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
                raise ConfigError(f"{type(self).__name__}.{role} must be a pydantic model class, not {schema!r}")
        self.config: Any = self._make_config(config)
        if timeout is not None and timeout <= 0:
            raise ConfigError(f"flow '{self.name}': timeout must be positive, not {timeout}")
        self.timeout = timeout

    def _make_config(self, config: Any) -> Any:
        if self.Config is None:
            if config:
                raise ConfigError(f"{type(self).__name__} takes no config (it declares no Config model)")
            return None
        if isinstance(config, self.Config):
            return config
        try:
            return self.Config.model_validate(config or {})
        except ValidationError as exc:
            raise ConfigError(f"config of flow '{self.name}' ({type(self).__name__}): {describe_errors(exc)}") from None

    # -- what hosts need -------------------------------------------------------------------
    @property
    def subflows(self) -> dict[str, Flow | str]:
        """Subflows by name: a `Flow` is hosted under this flow's address, a `str` is an address served elsewhere."""
        return {}

    def validate_input(self, data: dict[str, Any], address: str) -> BaseModel:
        if self.Input is Data:
            return free_form(data)
        try:
            return self.Input.model_validate(data)
        except ValidationError as exc:
            raise SchemaError(
                f"input does not fit {self.Input.__qualname__}: {describe_errors(exc)}", address=address
            ) from None

    def dump_output(self, result: Any, address: str) -> dict[str, Any]:
        schema = self.Output
        if isinstance(result, dict):
            if schema is Data:
                return result
            try:
                return schema.model_validate(result).model_dump(mode="json")
            except ValidationError as exc:
                raise SchemaError(
                    f"output does not fit {schema.__qualname__}: {describe_errors(exc)}", address=address
                ) from None
        if isinstance(result, BaseModel):
            if type(result) is schema or schema is Data:
                plain = plain_values(result) if schema is Data else None
                return plain if plain is not None else json_dump(result)
            return self.dump_output(json_dump(result), address)
        if result is None:
            return self.dump_output({}, address)
        raise SchemaError(
            f"the handler returned {type(result).__name__}; return a dict or {schema.__qualname__}", address=address
        )

    async def handle(self, ctx: Context, data: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define `async def handle(self, ctx, data)`")

    # -- calling subflows --------------------------------------------------------------------
    def call(self, name: str, data: Any, *, session: str | None = None) -> Awaitable[dict[str, Any]]:
        """Call a subflow from inside this flow's handler (same as `ctx.call`)."""
        ctx = current_context()
        if not ctx.belongs_to(self):
            raise RuntimeError(f"{self.name}.call() used outside {self.name}'s own handler")
        return ctx.call(name, data, session=session)

    # -- running ----------------------------------------------------------------------------
    async def run(
        self,
        data: Any = None,
        *,
        session: str = "default",
        run_id: str | None = None,
        on_event: Callable[[Message], None] | None = None,
        runtime: Runner | None = None,
    ) -> dict[str, Any]:
        """Run this flow on a runtime (the embedded default when none is given) and return its output.

        Raises:
            FlowError: the flow, or a subflow it did not handle, failed.
        """
        if runtime is not None:
            result = await runtime.run(self, data or {}, session=session, run_id=run_id, on_event=on_event)
            return result.unwrap()
        async with default_runtime() as rt:
            result = await rt.run(self, data or {}, session=session, run_id=run_id, on_event=on_event)
        return result.unwrap()

    def run_sync(self, data: Any = None, **kwargs: Any) -> dict[str, Any]:
        """`run` for scripts: starts an event loop, runs the flow, returns its output."""
        return asyncio.run(self.run(data, **kwargs))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class AtomicFlow(Flow):
    """A flow that does work itself (calls a model, runs a tool, asks a person)."""


class CompositeFlow(Flow):
    """A flow whose handler calls subflows with `await self.call(name, data)`."""

    def __init__(self, subflows: dict[str, Flow | str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._subflows: dict[str, Flow | str] = dict(subflows or {})
        for key, sub in self._subflows.items():
            if not isinstance(sub, (Flow, str)):
                raise ConfigError(
                    f"subflow '{key}' of '{self.name}' must be a Flow or an address string, not {type(sub).__name__}"
                )

    @property
    def subflows(self) -> dict[str, Flow | str]:
        return self._subflows


class FunctionFlow(AtomicFlow):
    """A plain function as a flow: its parameters are the input, its return value the output."""

    def __init__(self, fn: Callable[..., Any], *, name: str | None = None, blocking: bool = False, **kwargs: Any):
        self.fn = fn
        self.blocking = blocking
        self._is_async = inspect.iscoroutinefunction(fn)
        self.Input, self.Output, self._wants_ctx, self._wraps_result = _schemas_of(fn)  # type: ignore[misc]
        self._params = [p for p in self.Input.model_fields]
        super().__init__(name=name or fn.__name__, **kwargs)

    async def handle(self, ctx: Context, data: BaseModel) -> Any:
        kwargs = {p: getattr(data, p) for p in self._params}
        if self._wants_ctx:
            kwargs["ctx"] = ctx
        if self._is_async:
            result = await self.fn(**kwargs)
        elif self.blocking:
            result = await asyncio.to_thread(self.fn, **kwargs)
        else:
            result = self.fn(**kwargs)
        return {"result": result} if self._wraps_result else result


def _schemas_of(fn: Callable[..., Any]) -> tuple[type[BaseModel], type[BaseModel], bool, bool]:
    try:
        hints = get_type_hints(fn)
    except NameError as exc:
        raise ConfigError(
            f"function flow '{fn.__name__}': cannot resolve an annotation ({exc}); define it at module level"
        ) from None
    fields: dict[str, Any] = {}
    wants_ctx = False
    for param in inspect.signature(fn).parameters.values():
        if param.name == "ctx" or hints.get(param.name) is Context:
            wants_ctx = True
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise ConfigError(f"function flow '{fn.__name__}' cannot take *args or **kwargs")
        default = ... if param.default is param.empty else param.default
        fields[param.name] = (hints.get(param.name, Any), default)
    title = "".join(part.capitalize() for part in fn.__name__.split("_"))
    input_model = create_model(f"{title}Input", **fields)
    returns = hints.get("return", Any)
    if isinstance(returns, type) and issubclass(returns, BaseModel):
        return input_model, returns, wants_ctx, False
    if returns is dict or getattr(returns, "__origin__", None) is dict:
        return input_model, Data, wants_ctx, False
    output_model = create_model(f"{title}Output", result=(returns, ...))
    return input_model, output_model, wants_ctx, True


def flow(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    blocking: bool = False,
    timeout: float | None = None,
) -> Any:
    """Turn a function (sync or async) into a flow.

    The parameters become the input schema; a returned pydantic model or dict is the output,
    anything else is wrapped as `{"result": value}`. A parameter named `ctx` receives the
    `Context`. Sync functions run inline; pass `blocking=True` to run them in a thread.

        @flow
        def add(a: int, b: int) -> int:
            return a + b

        add.run_sync({"a": 1, "b": 2})  # {"result": 3}
    """

    def wrap(f: Callable[..., Any]) -> FunctionFlow:
        return FunctionFlow(f, name=name, blocking=blocking, timeout=timeout)

    return wrap(fn) if fn is not None else wrap
