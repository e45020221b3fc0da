"""Serving one flow at one address: the third step of the life of a request.

Load the state for (address, session), validate the input, run the handler under the flow's
time limit, save the state, answer. Whatever the handler does, the caller gets a reply or a
typed error; only cancellation (the caller gave up) propagates as an exception.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..context import Context, _current
from ..exceptions import SchemaError
from ..flow import Flow, describe_errors
from ..messages import ErrorInfo, Message
from ..records import Span

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["Host"]


class Host:
    def __init__(self, runtime: Runtime, flow: Flow, address: str, subflow_addresses: dict[str, str]) -> None:
        self.runtime = runtime
        self.flow = flow
        self.address = address
        self.subflow_addresses = subflow_addresses
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def handle(self, request: Message) -> Message:
        runtime = self.runtime
        run = runtime._runs.get(request.run_id) or await runtime._load_run(request.run_id)
        run.users += 1
        started = time.time()
        answer: Message | None = None
        try:
            if self.flow.State is None:
                answer = await self._invoke(request, run, None)
            else:
                lock = self._locks.get(request.session)
                if lock is None:
                    lock = self._locks[request.session] = asyncio.Lock()
                async with lock:
                    answer = await self._invoke_stateful(request, run)
            if request.path == "":
                await runtime._finish_run(request, answer)
            return answer
        finally:
            run.users -= 1
            if run.users == 0:
                runtime._release_run(run)
            journal = (
                runtime.journaling
                and request.path != ""  # the root's answer is the run record
                and answer is not None
                and not (answer.error is not None and answer.error.type == "Suspended")  # a wait is no outcome
            )
            if journal or runtime.tracing:
                self._record(request, answer, started, journal)

    async def _invoke_stateful(self, request: Message, run: Any) -> Message:
        store = self.runtime.store
        schema = self.flow.State
        assert schema is not None
        saved = await store.load_state(self.address, request.session)
        try:
            state = schema.model_validate(saved) if saved is not None else schema()
        except ValidationError as exc:
            error = SchemaError(f"stored state does not fit {schema.__qualname__}: {describe_errors(exc)}", address=self.address)
            return request.fail(ErrorInfo.from_exception(error, address=self.address, run_id=request.run_id, path=request.path))
        answer = await self._invoke(request, run, state)
        if answer.kind == "reply":
            await store.save_state(self.address, request.session, state.model_dump(mode="json"))
        return answer

    async def _invoke(self, request: Message, run: Any, state: Any) -> Message:
        flow = self.flow
        ctx = Context(self, run, request, state)
        token = _current.set(ctx)
        try:
            data = flow.validate_input(request.data, self.address)
            if flow.timeout is None:
                result = await flow.handle(ctx, data)
            else:
                try:
                    async with asyncio.timeout(flow.timeout) as limit:
                        result = await flow.handle(ctx, data)
                except TimeoutError:
                    if not limit.expired():
                        raise
                    return request.fail(
                        ErrorInfo(
                            address=self.address,
                            type="Timeout",
                            message=f"no answer within its time limit of {flow.timeout:g} s",
                            run_id=request.run_id,
                            path=request.path,
                        )
                    )
            return request.reply(flow.dump_output(result, self.address))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a typed error reply
            return request.fail(ErrorInfo.from_exception(exc, address=self.address, run_id=request.run_id, path=request.path))
        finally:
            _current.reset(token)

    def _record(self, request: Message, answer: Message | None, started: float, journal: bool) -> None:
        """The span of this request, which is also the journal entry of the caller's call.

        The host records the journal entry, not the caller: it knows the answer first, and over
        Redis the entry then lives beside the worker that produced it.
        """
        if answer is None:
            status, output, error = "cancelled", None, None
        elif answer.kind == "reply":
            status, output, error = "ok", answer.data, None
        else:
            status, output, error = "error", None, answer.error.model_dump() if answer.error else None
        self.runtime.store.record_call(
            Span(
                request.run_id,
                request.path,
                self.address,
                request.session,
                request.id,
                request.parent_id,
                started,
                time.time(),
                status,  # type: ignore[arg-type]
                request.data,
                output,
                error,
            ),
            trace=self.runtime.tracing,
            journal=journal,
        )
