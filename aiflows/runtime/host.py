"""Serving one flow at one address: the third step of the life of a request.

Load the state for (address, session), validate the input, run the handler under the flow's
time limit, save the state, answer. Whatever the handler does, the caller gets a reply or a
typed error; only cancellation (the caller gave up) propagates as an exception.

A local call runs `serve` inline in the caller's task, so it is the hot path of every call:
it is one coroutine (state, time limit and recording are branches, not extra awaits), and a
caller in this process gets the output itself (`call`), with no answer message made for it.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from ..bus.base import Bus, unwrap
from ..context import Context, reset_current_context, set_current_context
from ..exceptions import FlowTimeout, SchemaError
from ..flow import Data, Flow, describe_errors, free_form, json_dump, plain_values
from ..messages import ErrorInfo, Message
from ..records import Span
from .run import ActiveRuns
from .store.base import Store

__all__ = ["Host", "HostingRuntime"]

_time = time.time
_new_span = tuple.__new__  # Span(...) without its generated __new__: every field is given, in order


class HostingRuntime(Protocol):
    """What a Host needs from the runtime that makes it: `Runtime` is one, and passes itself."""

    @property
    def bus(self) -> Bus: ...

    @property
    def store(self) -> Store: ...

    @property
    def runs(self) -> ActiveRuns: ...

    @property
    def journaling(self) -> bool: ...

    @property
    def tracing(self) -> bool: ...

    async def finish_run(self, request: Message, answer: Message) -> None: ...

    def publish_event(self, event: Message) -> None: ...


class Host:
    """One flow served at one address: the `FlowHost` every Context of its handler talks to."""

    def __init__(self, runtime: HostingRuntime, flow: Flow, address: str, subflow_addresses: dict[str, str]) -> None:
        self.runtime = runtime
        self.runs = runtime.runs
        self.flow = flow
        self.address = address
        self.subflow_addresses = subflow_addresses
        # How a handler's Context calls other flows: the bus's own method, so a hop is one call less.
        self.call_flow: Callable[[Message], Awaitable[dict[str, Any]]] = runtime.bus.call
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # Free-form data needs no schema: the hot path wraps and unwraps it here, one call less per hop
        # (unless the flow's class changed how its data is checked).
        kind = type(flow)
        self._free_input = flow.Input is Data and kind.validate_input is Flow.validate_input
        self._free_output = flow.Output is Data and kind.dump_output is Flow.dump_output

    def publish_event(self, event: Message) -> None:
        """An event raised by the handler, for the listeners of its run."""
        self.runtime.publish_event(event)

    def handle(self, request: Message) -> Awaitable[Message]:
        """The bus's handler: the answer as a message (for a run's root, and callers in other processes)."""
        return self.serve(request, False)

    def call(self, request: Message) -> Awaitable[dict[str, Any]]:
        """For a caller in this process: the output itself, or the flow's error raised as `FlowError`.
        No answer message is made: it would be read once, for these two things."""
        return self.serve(request, True)

    async def serve(self, request: Message, unwrapping: bool) -> Any:
        runtime = self.runtime
        flow = self.flow
        runs = self.runs
        run = runs.get(request.run_id) or await runs.load(request.run_id)
        run.users += 1
        started = _time()
        status: str = "cancelled"  # until the handler ends one way or the other
        output: dict[str, Any] | None = None
        error: ErrorInfo | None = None
        ended = 0.0
        lock: asyncio.Lock | None = None
        try:
            state: BaseModel | None = None
            if flow.State is not None:
                lock = self._locks.get(request.session)
                if lock is None:
                    lock = self._locks[request.session] = asyncio.Lock()
                await lock.acquire()
                state, error = await self._load_state(request)
            if error is None:
                ctx = Context(self, run, request, state)
                token = set_current_context(ctx)
                try:
                    data = (
                        free_form(request.data) if self._free_input else flow.validate_input(request.data, self.address)
                    )
                    if flow.timeout is None:
                        result = await flow.handle(ctx, data)
                    else:
                        result = await self._handle_within_limit(ctx, data)
                    if self._free_output:
                        kind = type(result)
                        output = result if kind is dict else plain_values(result) if kind is Data else None
                    if output is None:
                        output = flow.dump_output(result, self.address)
                    status = "ok"
                except Exception as exc:  # noqa: BLE001 - every failure becomes a typed error
                    error = ErrorInfo.from_exception(
                        exc, address=self.address, run_id=request.run_id, path=request.path
                    )
                finally:
                    reset_current_context(token)
                if state is not None and error is None:
                    await runtime.store.save_state(self.address, request.session, json_dump(state))
            if error is not None:
                status = "error"
            ended = _time()
            if lock is not None:
                lock.release()
                lock = None
            if unwrapping and request.path:
                if error is not None:
                    raise error.to_exception()
                return output
            answer = request.reply(output) if error is None else request.fail(error)  # type: ignore[arg-type]
            if not request.path:
                await runtime.finish_run(request, answer)
            return unwrap(answer) if unwrapping else answer
        finally:
            if lock is not None:
                lock.release()
            run.users -= 1
            if run.users == 0:
                runs.release(run)
            if runtime.tracing or runtime.journaling:
                self._record(request, status, output, error, started, ended or _time())

    async def _load_state(self, request: Message) -> tuple[BaseModel | None, ErrorInfo | None]:
        """The flow's saved state for the request's session, or the error if it no longer fits the schema."""
        schema = self.flow.State
        assert schema is not None
        saved = await self.runtime.store.load_state(self.address, request.session)
        try:
            return (schema.model_validate(saved) if saved is not None else schema()), None
        except ValidationError as exc:
            error = SchemaError(
                f"stored state does not fit {schema.__qualname__}: {describe_errors(exc)}", address=self.address
            )
            return None, ErrorInfo.from_exception(error, address=self.address, run_id=request.run_id, path=request.path)

    async def _handle_within_limit(self, ctx: Context, data: Any) -> Any:
        """The handler's result; `FlowTimeout` when it runs past the flow's time limit."""
        flow = self.flow
        try:
            async with asyncio.timeout(flow.timeout) as limit:
                return await flow.handle(ctx, data)
        except TimeoutError:
            if not limit.expired():
                raise
            raise FlowTimeout(
                f"no answer within its time limit of {flow.timeout:g} s",
                address=self.address,
                type="Timeout",
                run_id=ctx.run_id,
                path=ctx.path,
            ) from None

    def _record(
        self,
        request: Message,
        status: str,
        output: dict[str, Any] | None,
        error: ErrorInfo | None,
        started: float,
        ended: float,
    ) -> None:
        """The span of this request, which is also the journal entry of the caller's call.

        The host records the journal entry, not the caller: it knows the answer first, and over
        Redis the entry then lives beside the worker that produced it.
        """
        runtime = self.runtime
        # Fields read from the instance dict: a pydantic model defines `__getattr__` (for private and
        # extra attributes; a field never reaches it), and that alone keeps Python from specialising
        # attribute reads on it, so `request.path` costs about twice a dict lookup.
        fields = request.__dict__
        path = fields["path"]
        if status == "ok":
            journal = runtime.journaling
        else:  # a cancelled call has no outcome, and a wait is none either
            journal = runtime.journaling and status == "error" and error is not None and error.type != "Suspended"
            output = None
        journal = journal and path != ""  # the root's answer is the run record
        if not (journal or runtime.tracing):
            return
        runtime.store.record_call(
            _new_span(
                Span,
                (
                    fields["run_id"],
                    path,
                    self.address,
                    fields["session"],
                    fields["id"],
                    fields["parent_id"],
                    started,
                    ended,
                    status,
                    fields["data"],
                    output,
                    error.model_dump() if error is not None else None,
                    (),
                ),
            ),
            trace=runtime.tracing,
            journal=journal,
        )
