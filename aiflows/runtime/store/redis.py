"""Runs, journals, flow state and traces in Redis, so any worker can resume any run.

    {ns}:run:{run_id}        the RunRecord (JSON)          {ns}:runs   sorted set of run ids by start time
    {ns}:journal:{run_id}    hash: call path -> entry      {ns}:state:{address}  hash: session -> state
    {ns}:spans:{run_id}      list of spans                 {ns}:events:{run_id}  list of events

State is written before the handler's answer leaves (the next request of the session may go to
another worker); journal entries, spans and events are written behind the hot path in batches
every `flush_interval` seconds. A worker killed between two flushes loses at most that window of
journal: those calls run again on resume, which at-least-once delivery allows. Everything but
flow state expires `ttl` seconds after its run was last written.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any

from ..._json import dumps, loads
from ...bus._journal_hint import is_fresh, mark_fresh
from ...bus._redis_conn import Keys, RedisTLS, connect, ping, retrying
from ...messages import Message
from ...records import JournalEntry, RunRecord, Span

__all__ = ["RedisStore"]


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
        self._journal: list[tuple[str, str, bytes]] = []
        self._spans: list[tuple[str, bytes]] = []
        self._events: list[tuple[str, str]] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._closed = False
        self._writing: set[asyncio.Future[Any]] = set()
        self._fresh: set[str] = set()
        self._created: OrderedDict[str, None] = OrderedDict()  # runs this store started (bounded)

    def __repr__(self) -> str:
        from ...bus._redis_conn import redact

        return f"<RedisStore {redact(self.url)} ns={self.keys.ns!r}>"

    def _key(self, kind: str, name: str) -> str:
        return f"{self.keys.ns}:{kind}:{name}"

    async def _retry(self, op: Any, what: str) -> Any:
        return await retrying(op, what=what, closed=lambda: self._closed, backoff_max=2.0)

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self.client is not None:
            return
        client = connect(self.url, self.tls)
        try:
            await ping(client, self.url, probe=f"{self.keys.ns}:runs")
        except BaseException:
            await client.aclose()
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
        await self._write()
        while self._writing:
            await asyncio.wait(list(self._writing))

    def _schedule(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later(), name="redisstore:flush")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.flush_interval)
        await self._write()

    async def _write(self) -> None:
        while self._journal or self._spans or self._events:
            journal, spans, events = self._journal, self._spans, self._events
            self._journal, self._spans, self._events = [], [], []

            async def op() -> None:
                pipe = self.client.pipeline(transaction=False)
                touched: set[str] = set()
                for run_id, path, raw in journal:
                    key = self._key("journal", run_id)
                    pipe.hset(key, path, raw)
                    touched.add(key)
                for run_id, raw in spans:
                    key = self._key("spans", run_id)
                    pipe.rpush(key, raw)
                    touched.add(key)
                for run_id, raw in events:
                    key = self._key("events", run_id)
                    pipe.rpush(key, raw)
                    touched.add(key)
                for key in touched:
                    if ":events:" in key:
                        pipe.ltrim(key, -self.max_events, -1)
                    pipe.expire(key, self.ttl)
                await pipe.execute()

            # A batch, once taken from the buffers, is written even if the caller that took it is
            # cancelled: others may be waiting for it in flush().
            batch = asyncio.ensure_future(self._retry(op, "writing journal and trace"))
            self._writing.add(batch)
            batch.add_done_callback(self._writing.discard)
            await asyncio.shield(batch)

    # -- runs ---------------------------------------------------------------------------------
    async def save_run(self, record: RunRecord) -> None:
        if record.status == "running" and record.finished_at is None and record.run_id not in self._created:
            self._fresh.add(record.run_id)  # a run just started here has no journal yet: skip its first load
            self._created[record.run_id] = None
            if len(self._created) > 10_000:
                self._fresh.discard(next(iter(self._created)))
                self._created.popitem(last=False)
        async def op() -> None:
            pipe = self.client.pipeline(transaction=False)
            pipe.set(self._key("run", record.run_id), record.model_dump_json(), ex=self.ttl)
            pipe.zadd(f"{self.keys.ns}:runs", {record.run_id: record.created_at})
            pipe.zremrangebyrank(f"{self.keys.ns}:runs", 0, -self.max_runs - 1)
            await pipe.execute()

        await self._retry(op, "saving a run")

    async def get_run(self, run_id: str) -> RunRecord | None:
        raw = await self._retry(lambda: self.client.get(self._key("run", run_id)), "reading a run")
        return RunRecord.model_validate_json(raw) if raw is not None else None

    async def list_runs(self, limit: int = 20) -> list[RunRecord]:
        ids = await self._retry(lambda: self.client.zrevrange(f"{self.keys.ns}:runs", 0, limit - 1), "listing runs")
        if not ids:
            return []
        raws = await self.client.mget([self._key("run", i.decode()) for i in ids])
        return [RunRecord.model_validate_json(r) for r in raws if r is not None]

    # -- journal ------------------------------------------------------------------------------
    async def load_journal(self, run_id: str) -> dict[str, JournalEntry]:
        buffered = {path: JournalEntry(*loads(v)) for rid, path, v in self._journal if rid == run_id}
        if run_id in self._fresh:  # created just now by this store: nothing journaled; tell the bus
            self._fresh.discard(run_id)
            mark_fresh(run_id)
            return buffered
        if is_fresh(run_id) and run_id not in self._created:  # a worker in the run's first execution
            return buffered
        mark_fresh(None)
        raw = await self._retry(lambda: self.client.hgetall(self._key("journal", run_id)), "reading a journal")
        journal = {path.decode(): JournalEntry(*loads(value)) for path, value in raw.items()}
        journal.update(buffered)  # loads see writes not flushed yet
        return journal

    def record_journal(self, run_id: str, path: str, entry: JournalEntry) -> None:
        self._journal.append((run_id, path, dumps((entry.address, entry.data, entry.error))))
        self._schedule()

    async def forget_journal_errors(self, run_id: str) -> None:
        await self.flush()
        key = self._key("journal", run_id)
        raw = await self._retry(lambda: self.client.hgetall(key), "reading a journal")
        failed = [path for path, value in raw.items() if loads(value)[2] is not None]
        if failed:
            await self.client.hdel(key, *failed)

    # -- state --------------------------------------------------------------------------------
    async def load_state(self, address: str, session: str) -> dict[str, Any] | None:
        raw = await self._retry(lambda: self.client.hget(self._key("state", address), session), "reading flow state")
        return loads(raw) if raw is not None else None

    async def save_state(self, address: str, session: str, state: dict[str, Any]) -> None:
        raw = dumps(state)
        await self._retry(lambda: self.client.hset(self._key("state", address), session, raw), "saving flow state")

    # -- trace --------------------------------------------------------------------------------
    def record_call(self, span: Span, *, trace: bool, journal: bool) -> None:
        if journal:
            self._journal.append((span.run_id, span.path, dumps((span.address, span.output, span.error))))
        if trace:
            self._spans.append((span.run_id, dumps(span.to_dict())))
        self._schedule()

    def record_event(self, event: Message) -> None:
        self._events.append((event.run_id, event.to_json()))
        self._schedule()

    async def spans(self, run_id: str) -> list[Span]:
        await self.flush()
        rows = await self._retry(lambda: self.client.lrange(self._key("spans", run_id), 0, -1), "reading spans")
        latest: dict[str, Span] = {}
        for raw in rows:  # a resumed run records its composites again: keep the last
            span = Span(**loads(raw))
            latest[span.path] = span
        return list(latest.values())

    async def events(self, run_id: str) -> list[Message]:
        await self.flush()
        rows = await self._retry(lambda: self.client.lrange(self._key("events", run_id), 0, -1), "reading events")
        return [Message.model_validate_json(raw) for raw in rows]
