"""Runs, journals, flow state and traces in Redis, so any worker can resume any run.

    {ns}:run:{run_id}        hash: start -> RunRecord, end -> how it ended    {ns}:runs  run ids by start time
    {ns}:journal:{run_id}    hash: call path -> entry      {ns}:state:{address}  hash: session -> state
    {ns}:spans:{run_id}      list of spans                 {ns}:events:{run_id}  list of events

A run's start and its end are two fields: the caller writes one, the worker that answers the
root request the other, in whatever order they land. On a worker of the same deployment the
records of a request (its journal entry, span, and for a root request the run's end) go out in
the same write as its answer (see `aiflows.bus._redis_records`; the runtime pairs the store with its
bus); elsewhere journal entries,
spans and events are written behind the hot path in batches every `flush_interval` seconds.
Flow state is written before the handler's answer leaves (the next request of the session may go
to another worker). Everything but flow state expires `ttl` seconds after its run was last written.
The commands every request makes go over a lean pipelined connection (`aiflows.bus._resp`).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Any

from ..._json import dumps, loads
from ...bus._redis_conn import Keys, RedisTLS, connect_lean, ping, redact, retrying
from ...bus._redis_records import Carried, Deliveries
from ...bus.base import Bus
from ...bus.redis import RedisBus
from ...messages import Message
from ...records import JournalEntry, RunRecord, Span
from .base import outcome, record_json

__all__ = ["RedisStore"]

_END_FIELDS = ("status", "output", "error", "finished_at")


class RedisStore:
    """The `Store` of a Redis deployment.

    Args:
        url: the same kind of URL `RedisBus` takes.
        namespace: key prefix; use the bus's namespace.
        ttl: seconds runs, journals and traces are kept (flow state is kept until deleted).
        max_runs: how many runs `list_runs` remembers.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        namespace: str = "aiflows",
        tls: RedisTLS | dict[str, Any] | None = None,
        ttl: float = 7 * 24 * 3600,
        max_runs: int = 10_000,
        max_events: int = 10_000,
        flush_interval: float = 0.02,
    ) -> None:
        self.url = url
        self.keys = Keys(namespace)
        self.tls = RedisTLS.model_validate(tls) if isinstance(tls, dict) else tls
        self.ttl = int(ttl)
        self.max_runs = max_runs
        self.max_events = max_events
        self.flush_interval = flush_interval
        self.client: Any = None
        self._deployment = (url, namespace)
        self._journal: list[tuple[str, str, bytes]] = []
        self._spans: list[tuple[str, bytes]] = []
        self._events: list[tuple[str, bytes]] = []
        self._deliveries: Deliveries | None = None  # of the paired bus, when it is of this deployment
        self._starts: list[tuple[str, Carried]] = []  # start records offered to requests; flush writes those none took
        self._flush_task: asyncio.Task[None] | None = None
        self._closed = False
        self._writing: set[asyncio.Future[Any]] = set()
        self._fresh: set[str] = set()
        self._saved = 0  # runs saved here, to trim their index now and then
        self._created: OrderedDict[str, None] = OrderedDict()  # runs this store started (bounded)

    def __repr__(self) -> str:
        return f"<RedisStore {redact(self.url)} ns={self.keys.ns!r}>"

    def pair(self, bus: Bus) -> None:
        """Hand records to `bus`'s requests and answers when it is a `RedisBus` of this deployment: a new
        run's start travels with its first request, a request's records with its answer."""
        if isinstance(bus, RedisBus) and bus.deployment == self._deployment:
            self._deliveries = bus.deliveries
        else:
            self._deliveries = None

    def _key(self, kind: str, name: str) -> str:
        return f"{self.keys.ns}:{kind}:{name}"

    async def _retry(self, op: Any, what: str) -> Any:
        return await retrying(op, what=what, closed=lambda: self._closed, backoff_max=2.0)

    async def _do(self, what: str, *args: Any) -> Any:
        return await self._retry(lambda: self.client.execute_command(*args), what)

    async def _do_many(self, what: str, commands: list[tuple[Any, ...]]) -> list[Any]:
        replies: list[Any] = await self._retry(lambda: self.client.execute_many(commands), what)
        return replies

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self.client is not None:
            return
        client = connect_lean(self.url, self.tls)
        try:
            await ping(client, self.url, probe=f"{self.keys.ns}:runs")
        except BaseException:
            client.disconnect()
            raise
        self.client = client

    async def close(self) -> None:
        if self.client is None:
            return
        try:
            await self.flush()
        finally:
            self._closed = True
            await self.client.aclose()
            self.client = None

    async def flush(self) -> None:
        """Write what is buffered, and wait for batches other callers are writing right now."""
        if not (self._starts or self._journal or self._spans or self._events or self._writing):
            return  # the common case on a worker: its records went out with its answers
        await self._confirm_starts()
        await self._write()
        while self._writing:
            await asyncio.wait(list(self._writing))

    def _schedule(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later(), name="redisstore:flush")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.flush_interval)
        await self._confirm_starts()
        await self._write()

    async def _write(self) -> None:
        while self._journal or self._spans or self._events:
            journal, spans, events = self._journal, self._spans, self._events
            self._journal, self._spans, self._events = [], [], []
            commands: list[tuple[Any, ...]] = []
            touched: set[str] = set()
            for run_id, path, raw in journal:
                key = self._key("journal", run_id)
                commands.append(("HSET", key, path, raw))
                touched.add(key)
            for run_id, raw in spans:
                key = self._key("spans", run_id)
                commands.append(("RPUSH", key, raw))
                touched.add(key)
            for run_id, raw in events:
                key = self._key("events", run_id)
                commands.append(("RPUSH", key, raw))
                touched.add(key)
            for key in touched:
                if ":events:" in key:
                    commands.append(("LTRIM", key, -self.max_events, -1))
                commands.append(("EXPIRE", key, self.ttl))
            # A batch, once taken from the buffers, is written even if the caller that took it is
            # cancelled: others may be waiting for it in flush().
            batch = asyncio.ensure_future(self._do_many("writing journal and trace", commands))
            self._writing.add(batch)
            batch.add_done_callback(self._writing.discard)
            await asyncio.shield(batch)

    # -- runs ---------------------------------------------------------------------------------
    def _run_index(self, record: RunRecord) -> list[tuple[Any, ...]]:
        runs = f"{self.keys.ns}:runs"
        commands: list[tuple[Any, ...]] = [
            ("EXPIRE", self._key("run", record.run_id), self.ttl),
            ("ZADD", runs, "NX", record.created_at, record.run_id),
        ]
        self._saved += 1
        if self._saved % 64 == 1:  # the index may overshoot max_runs by a few dozen between trims
            commands.append(("ZREMRANGEBYRANK", runs, 0, -self.max_runs - 1))
        return commands

    async def save_run(self, record: RunRecord) -> None:
        """Record a run's start. A new run's record is written without waiting for Redis: the run's first
        request carries it (see `aiflows.bus._with_answer`); one that no request took, or that did not
        land, is written by the next flush (`flush_interval` later, or at once by a read of runs)."""
        key = self._key("run", record.run_id)
        raw = record_json(record)
        commands: list[tuple[Any, ...]] = [("HSET", key, "start", raw), *self._run_index(record)]
        if record.status != "running" or record.finished_at is not None:
            commands.append(("HSET", key, "end", raw))
            await self._do_many("saving a run", commands)
            return
        if record.run_id not in self._created:
            self._fresh.add(record.run_id)  # a run just started here has no journal yet: skip its first load
            self._created[record.run_id] = None
            if len(self._created) > 10_000:
                self._fresh.discard(next(iter(self._created)))
                self._created.popitem(last=False)
        start = Carried(
            commands, failed=lambda: self._write_again(record.run_id, commands), fresh=record.run_id in self._fresh
        )
        if self._deliveries is not None:
            self._deliveries.offer(record.run_id, start)  # the run's first request carries it, in the same write
        self._starts.append((record.run_id, start))
        self._schedule()

    def _write_again(self, run_id: str, commands: list[tuple[Any, ...]]) -> None:
        """A start record its request carried did not land: the next flush writes it."""
        self._starts.append((run_id, Carried(commands, failed=lambda: None)))
        self._schedule()

    async def _confirm_starts(self) -> None:
        """Write the start records no request carried (all in one go)."""
        if not self._starts:
            return
        untaken = [c for _, start in self._starts if not start.taken for c in start.commands]
        for run_id, start in self._starts:
            start.taken = True  # a request sent from now on does not carry it: it is written here
            if self._deliveries is not None:
                self._deliveries.withdraw(run_id)
        self._starts = []
        if untaken:
            await self._do_many("saving runs", untaken)

    async def finish_run(self, request: Message, answer: Message) -> None:
        status, output, error = outcome(answer)
        # The whole record goes in `end`: it stands in for the start if the caller's never landed.
        finished_at = time.time()
        end = {
            "run_id": request.run_id,
            "address": request.recipient,
            "session": request.session,
            "input": request.data,
            "status": status,
            "output": output,
            "error": error.model_dump(mode="json") if error else None,
            "created_at": request.created_at,
            "finished_at": finished_at,
            "spec": {},
        }
        key = self._key("run", request.run_id)
        commands: list[tuple[Any, ...]] = [("HSET", key, "end", dumps(end))]
        deliveries = self._deliveries
        # A start that came with the request indexed the run and set its expiry (unless that expiry is near).
        landed = deliveries is not None and deliveries.start_landed(request.id, request.run_id)
        if not landed or finished_at - request.created_at > self.ttl / 10:
            commands += [
                ("EXPIRE", key, self.ttl),
                ("ZADD", f"{self.keys.ns}:runs", "NX", request.created_at, request.run_id),
            ]
        if deliveries is None or not deliveries.defer(request.id, *commands):
            await self._do_many("saving a run's end", commands)

    async def get_run(self, run_id: str) -> RunRecord | None:
        await self._confirm_starts()
        raw = await self._do("reading a run", "HGETALL", self._key("run", run_id))
        return _record(raw)

    async def list_runs(self, limit: int = 20) -> list[RunRecord]:
        await self._confirm_starts()
        ids = await self._do("listing runs", "ZREVRANGE", f"{self.keys.ns}:runs", 0, limit - 1)
        if not ids:
            return []
        raws = await self._do_many("reading runs", [("HGETALL", self._key("run", i.decode())) for i in ids])
        return [record for raw in raws if (record := _record(raw)) is not None]

    # -- journal ------------------------------------------------------------------------------
    async def load_journal(self, run_id: str) -> dict[str, JournalEntry]:
        buffered = {path: JournalEntry(*loads(v)) for rid, path, v in self._journal if rid == run_id}
        if run_id in self._fresh:  # created just now by this store: nothing journaled
            self._fresh.discard(run_id)
            return buffered
        deliveries = self._deliveries
        if deliveries is not None:
            if deliveries.fresh_run(run_id) and run_id not in self._created:  # a worker in the run's first execution
                return buffered
            deliveries.journal_read(run_id)  # calls of this run may be journaled: their workers read it too
        raw = await self._do("reading a journal", "HGETALL", self._key("journal", run_id))
        journal = {path.decode(): JournalEntry(*loads(value)) for path, value in _pairs(raw)}
        journal.update(buffered)  # loads see writes not flushed yet
        return journal

    def record_journal(self, run_id: str, path: str, entry: JournalEntry) -> None:
        self._journal.append((run_id, path, dumps((entry.address, entry.data, entry.error))))
        self._schedule()

    async def forget_journal_errors(self, run_id: str) -> None:
        await self.flush()
        key = self._key("journal", run_id)
        raw = await self._do("reading a journal", "HGETALL", key)
        failed = [path for path, value in _pairs(raw) if loads(value)[2] is not None]
        if failed:
            await self._do("forgetting failed calls", "HDEL", key, *failed)

    # -- state --------------------------------------------------------------------------------
    async def load_state(self, address: str, session: str) -> dict[str, Any] | None:
        raw = await self._do("reading flow state", "HGET", self._key("state", address), session)
        return loads(raw) if raw is not None else None

    async def save_state(self, address: str, session: str, state: dict[str, Any]) -> None:
        await self._do("saving flow state", "HSET", self._key("state", address), session, dumps(state))

    # -- trace --------------------------------------------------------------------------------
    def record_call(self, span: Span, *, trace: bool, journal: bool) -> None:
        entry = dumps((span.address, span.output, span.error)) if journal else None
        row = dumps(span.to_dict()) if trace else None
        commands: list[tuple[Any, ...]] = []
        if entry is not None:
            key = self._key("journal", span.run_id)
            commands += [("HSET", key, span.path, entry), ("EXPIRE", key, self.ttl)]
        if row is not None:
            key = self._key("spans", span.run_id)
            commands += [("RPUSH", key, row), ("EXPIRE", key, self.ttl)]
        if not commands or (self._deliveries is not None and self._deliveries.defer(span.request_id, *commands)):
            return
        if entry is not None:
            self._journal.append((span.run_id, span.path, entry))
        if row is not None:
            self._spans.append((span.run_id, row))
        self._schedule()

    def record_event(self, event: Message) -> None:
        self._events.append((event.run_id, event.to_wire()))
        self._schedule()

    async def spans(self, run_id: str) -> list[Span]:
        await self.flush()
        rows = await self._do("reading spans", "LRANGE", self._key("spans", run_id), 0, -1)
        latest: dict[str, Span] = {}
        for raw in rows:  # a resumed run records its composites again: keep the last
            span = Span(**loads(raw))
            latest[span.path] = span
        return list(latest.values())

    async def events(self, run_id: str) -> list[Message]:
        await self.flush()
        rows = await self._do("reading events", "LRANGE", self._key("events", run_id), 0, -1)
        return [Message.model_validate_json(raw) for raw in rows]


def _pairs(flat: list[bytes] | None) -> list[tuple[bytes, bytes]]:
    """A hash's fields, which RESP sends as a flat [field, value, ...] list."""
    it = iter(flat or ())
    return list(zip(it, it, strict=False))  # one iterator twice: fields and values in turn


def _record(flat: list[bytes] | None) -> RunRecord | None:
    """The run record from its hash: the start as the caller saved it, with the outcome of the end."""
    fields = dict(_pairs(flat))
    start, end = fields.get(b"start"), fields.get(b"end")
    if start is None:
        return RunRecord.model_validate_json(end) if end is not None else None
    record = loads(start)
    if end is not None:
        ended = loads(end)
        record.update((name, ended.get(name)) for name in _END_FIELDS)
    return RunRecord.model_validate(record)
