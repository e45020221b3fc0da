"""The runtime ties flows, a bus and a store together: it hosts flows and runs requests.

    async with Runtime() as rt:              # LocalBus + SQLite store under $AIFLOWS_HOME
        result = await rt.run(pipeline, {"x": 1})
        print(result.run_id, result.output)

Give it `bus=RedisBus(url)` and a Redis store to spread the same flows over machines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal

from .._fastmodel import trusted
from ..bus import Bus, LocalBus
from ..context import to_payload
from ..exceptions import ConfigError, RunNotFound
from ..flow import Flow
from ..messages import Message, new_id
from ..records import RunRecord, RunResult
from .host import Host
from .run import ActiveRuns
from .settings import default_store_path
from .store import SqliteStore, Store
from .store.base import outcome

__all__ = ["Runtime"]

EventCallback = Callable[[Message], None]


class Runtime:
    """Hosts flows on a bus and runs requests through them, journaled and traced.

    Args:
        bus: the transport; `LocalBus()` (in-process) by default.
        store: where runs, journals, state and traces go; SQLite under `$AIFLOWS_HOME` by default.
        journal: record every call's answer so interrupted runs can resume (on by default).
        trace: record every request and answer of a run (on by default).
    """

    def __init__(
        self, bus: Bus | None = None, store: Store | None = None, *, journal: bool = True, trace: bool = True
    ) -> None:
        self.bus: Bus = bus if bus is not None else LocalBus()
        self.store: Store = store if store is not None else SqliteStore(default_store_path())
        self.store.pair(self.bus)  # a store of the bus's own deployment sends its records with the bus's messages
        self.journaling = journal
        self.tracing = trace
        self.client_id = f"client:{new_id()}"
        self._hosts: dict[str, Host] = {}
        self.runs = ActiveRuns(self.store, journal)  # shared with the hosts
        self._status: Literal["unopened", "open", "closed"] = "unopened"

    async def __aenter__(self) -> Runtime:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def open(self) -> None:
        if self._status != "unopened":
            raise RuntimeError(f"a runtime can be opened once (this one is {self._status})")
        await self.store.open()
        await self.bus.start()
        self._status = "open"

    async def close(self) -> None:
        if self._status != "open":
            return
        self._status = "closed"
        try:
            await self.bus.close()
        finally:
            await self.store.flush()
            await self.store.close()

    def _check_open(self) -> None:
        if self._status != "open":
            raise RuntimeError("use the runtime inside `async with Runtime(...) as rt:`")

    # -- hosting ----------------------------------------------------------------------------
    async def host(self, flow: Flow, address: str | None = None) -> str:
        """Serve `flow` and its subflow tree on the bus; return the flow's address."""
        self._check_open()
        address = address or flow.name
        existing = self._hosts.get(address)
        if existing is not None:
            if existing.flow is not flow:
                raise ConfigError(f"address '{address}' already hosts {existing.flow!r}; cannot host {flow!r} there")
            return address
        subflow_addresses: dict[str, str] = {}
        for name, sub in flow.subflows.items():
            subflow_addresses[name] = sub if isinstance(sub, str) else await self.host(sub, f"{address}/{name}")
        host = Host(self, flow, address, subflow_addresses)
        self._hosts[address] = host
        await self.bus.serve(address, host.handle, call=host.call)
        return address

    def hosted(self, address: str) -> Flow | None:
        host = self._hosts.get(address)
        return host.flow if host else None

    # -- running ----------------------------------------------------------------------------
    async def run(
        self,
        target: Flow | str,
        data: Any = None,
        *,
        session: str = "default",
        run_id: str | None = None,
        on_event: EventCallback | None = None,
        spec: dict[str, Any] | None = None,
    ) -> RunResult:
        """Start a run of `target` (a flow, hosted if needed, or an address) and wait for its end.

        Never raises for the flow's own failure: the result carries the error. A `run_id` that
        already finished returns the recorded result; one that was interrupted resumes.
        """
        self._check_open()
        address = await self.host(target) if isinstance(target, Flow) else target
        if run_id is not None and await self.store.get_run(run_id) is not None:
            return await self.resume(run_id, on_event=on_event)
        record = _new_record(
            run_id or new_id(), address, session, to_payload(data if data is not None else {}), spec or {}
        )
        await self.store.save_run(record)
        return await self._execute(record, on_event)

    async def call(self, address: str, data: Any = None, *, session: str = "default") -> dict[str, Any]:
        """Run the flow at `address` and return its output; raise `FlowError` if it failed."""
        return (await self.run(address, data, session=session)).unwrap()

    async def send(self, address: str, data: Any = None, *, session: str = "default") -> str:
        """Start a run and do not wait for it; returns the run id (see `status`/`aiflows trace`)."""
        self._check_open()
        record = RunRecord(
            run_id=new_id(), address=address, session=session, input=to_payload(data or {}), created_at=time.time()
        )
        await self.store.save_run(record)
        await self.bus.send(self._root_request(record))
        return record.run_id

    async def resume(self, run_id: str, *, on_event: EventCallback | None = None) -> RunResult:
        """Finish an interrupted (or failed) run: journaled calls answer from the journal, the rest run live."""
        self._check_open()
        record = await self.store.get_run(run_id)
        if record is None:
            raise RunNotFound(f"no run '{run_id}' in {getattr(self.store, 'path', self.store)}")
        if record.status == "done":
            return RunResult(run_id=run_id, status="done", output=record.output)
        if record.status == "failed":
            await self.store.forget_journal_errors(run_id)  # failed calls get another chance
        self.runs.forget(run_id)
        return await self._execute(record, on_event)

    async def get_run(self, run_id: str) -> RunRecord:
        record = await self.store.get_run(run_id)
        if record is None:
            raise RunNotFound(f"no run '{run_id}' in {getattr(self.store, 'path', self.store)}")
        return record

    def _root_request(self, record: RunRecord) -> Message:
        return Message.request(
            sender=self.client_id,
            recipient=record.address,
            data=record.input,
            run_id=record.run_id,
            session=record.session,
            path="",
        )

    async def _execute(self, record: RunRecord, on_event: EventCallback | None) -> RunResult:
        run = await self.runs.load(record.run_id)
        run.users += 1  # hold the run so nested hosts share one journal instead of reloading it
        stop_listening = self.bus.listen(record.run_id, on_event) if on_event is not None else None
        try:
            answer = await self.bus.request(self._root_request(record))
        finally:
            if stop_listening is not None:
                stop_listening()
            run.users -= 1
            if run.users == 0:
                self.runs.release(run)
        status, output, error = outcome(answer)
        return trusted(RunResult, {"run_id": record.run_id, "status": status, "output": output, "error": error})

    # -- for the hosts ---------------------------------------------------------------------------
    async def finish_run(self, request: Message, answer: Message) -> None:
        """Record how a run ended; the host of its root request calls this, wherever it runs."""
        await self.store.finish_run(request, answer)
        await self.store.flush()

    def publish_event(self, event: Message) -> None:
        """Send an event to the listeners of its run (and keep it in the trace when tracing)."""
        if self.tracing:
            self.store.record_event(event)
        self.bus.publish(event)


def _new_record(run_id: str, address: str, session: str, data: dict[str, Any], spec: dict[str, Any]) -> RunRecord:
    """A new run's record: validated only when a value the caller gave has not the type it needs
    (validating costs more than the rest of a run's bookkeeping on the caller)."""
    values: dict[str, Any] = {
        "run_id": run_id,
        "address": address,
        "session": session,
        "input": data,
        "status": "running",
        "output": None,
        "error": None,
        "created_at": time.time(),
        "finished_at": None,
        "spec": spec,
    }
    if type(run_id) is str and type(session) is str and type(spec) is dict and all(type(k) is str for k in data):
        return trusted(RunRecord, values)
    return RunRecord(**values)
