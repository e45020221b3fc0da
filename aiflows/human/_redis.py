"""Questions and answers in Redis, beside a deployment's `RedisStore` (same server, same namespace).

    {ns}:human:req:{id}       hash: doc (the question as asked), status, answer, answered_by,
                              answered_at, consumed, held_until
    {ns}:human:pending        sorted set of open request ids by creation time
    {ns}:human:run:{run_id}   sorted set of a run's request ids by creation time
    {ns}:human:wake           sorted set: request id -> when a resumer should look at it

Every decision that must be taken once (create, answer or expire, claim) is one Lua script, so
of two people answering at once, or two workers claiming, exactly one wins. Nothing lives in a
process: a worker restarted between question and answer finds everything here.
"""

from __future__ import annotations

import json
from typing import Any

from ._models import HumanRequest
from ._store import Closing

__all__ = ["RedisHumanStore"]

KEEP_S = 7 * 24 * 3600  # how long a consumed request is kept for the record

_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'doc', ARGV[1], 'status', 'pending', 'consumed', '0', 'held_until', '0')
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[4], ARGV[3], ARGV[4]) end
return 1
"""

_CLOSE = """
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'answer', ARGV[2], 'answered_by', ARGV[3], 'answered_at', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5])
return 1
"""

_CLAIM = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""


class RedisHumanStore:
    """A `HumanStore` in Redis.

    Args:
        url: the deployment's Redis URL.
        namespace: the deployment's key prefix (the bus's and run store's).
        tls: certificate options for `rediss://` URLs.
    """

    def __init__(self, url: str, *, namespace: str = "aiflows", tls: Any = None) -> None:
        from aiflows.bus._redis_conn import Keys

        self.url = url
        self.ns = Keys(namespace).ns
        self.tls = tls
        self.client: Any = None

    @classmethod
    def beside(cls, run_store: Any) -> RedisHumanStore:
        """The human store on the same server and namespace as a `RedisStore`."""
        return cls(run_store.url, namespace=run_store.keys.ns, tls=getattr(run_store, "tls", None))

    def __repr__(self) -> str:
        from aiflows.bus._redis_conn import redact

        return f"<RedisHumanStore {redact(self.url)} ns={self.ns!r}>"

    # keys
    def _req(self, request_id: str) -> str:
        return f"{self.ns}:human:req:{request_id}"

    @property
    def _pending(self) -> str:
        return f"{self.ns}:human:pending"

    @property
    def _wake(self) -> str:
        return f"{self.ns}:human:wake"

    def _run(self, run_id: str) -> str:
        return f"{self.ns}:human:run:{run_id}"

    # lifecycle
    async def open(self) -> None:
        if self.client is None:
            from aiflows.bus._redis_conn import connect, ping

            client = connect(self.url, self.tls)
            await ping(client, self.url)
            self.client = client

    async def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            await client.aclose()

    async def _redis(self) -> Any:
        await self.open()
        return self.client

    # reading
    @staticmethod
    def _build(fields: dict[bytes, bytes]) -> HumanRequest | None:
        if not fields:
            return None
        values = {k.decode(): v.decode() for k, v in fields.items()}
        request = HumanRequest.model_validate_json(values["doc"])
        update: dict[str, Any] = {
            "status": values.get("status", "pending"),
            "consumed": values.get("consumed") == "1",
            "held_until": float(values.get("held_until") or 0),
        }
        if "answered_at" in values:
            update["answer"] = json.loads(values["answer"])
            update["answered_by"] = values.get("answered_by") or None
            update["answered_at"] = float(values["answered_at"])
        return request.model_copy(update=update)

    async def get(self, request_id: str) -> HumanRequest | None:
        return self._build(await (await self._redis()).hgetall(self._req(request_id)))

    async def _many(self, ids: list[bytes]) -> list[HumanRequest]:
        client = await self._redis()
        async with client.pipeline(transaction=False) as pipe:
            for raw in ids:
                pipe.hgetall(self._req(raw.decode()))
            rows = await pipe.execute()
        return [r for r in (self._build(row) for row in rows) if r is not None]

    async def pending(self, session: str | None = None) -> list[HumanRequest]:
        ids = await (await self._redis()).zrange(self._pending, 0, -1)
        found = await self._many(ids)
        return [r for r in found if r.status == "pending" and (session is None or r.session == session)]

    async def for_run(self, run_id: str) -> list[HumanRequest]:
        return await self._many(await (await self._redis()).zrange(self._run(run_id), 0, -1))

    # writing
    async def create(self, request: HumanRequest) -> HumanRequest:
        client = await self._redis()
        deadline = "" if request.deadline is None else repr(request.deadline)
        await client.eval(
            _CREATE,
            4,
            self._req(request.id),
            self._pending,
            self._run(request.run_id),
            self._wake,
            request.model_dump_json(),
            repr(request.created_at),
            deadline,
            request.id,
        )
        stored = await self.get(request.id)
        assert stored is not None
        return stored

    async def close_request(
        self, request_id: str, status: Closing, answer: dict[str, Any] | None, by: str | None, at: float
    ) -> tuple[bool, HumanRequest | None]:
        client = await self._redis()
        won = await client.eval(
            _CLOSE,
            3,
            self._req(request_id),
            self._pending,
            self._wake,
            status,
            json.dumps(answer),
            by or "",
            repr(at),
            request_id,
        )
        return bool(won), await self.get(request_id)

    async def consume(self, request_id: str) -> None:
        client = await self._redis()
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(self._req(request_id), "consumed", "1")
            pipe.expire(self._req(request_id), KEEP_S)
            pipe.zrem(self._wake, request_id)
            await pipe.execute()

    async def hold(self, request_id: str, until: float) -> None:
        await (await self._redis()).hset(self._req(request_id), "held_until", repr(until))

    async def due(self, now: float, limit: int = 50) -> list[str]:
        ids = await (await self._redis()).zrangebyscore(self._wake, "-inf", now, start=0, num=limit)
        return [i.decode() for i in ids]

    async def claim(self, request_id: str, now: float, until: float) -> HumanRequest | None:
        client = await self._redis()
        if not await client.eval(_CLAIM, 1, self._wake, request_id, repr(now), repr(until)):
            return None
        return await self.get(request_id)

    async def reschedule(self, request_id: str, at: float | None) -> None:
        client = await self._redis()
        if at is None:
            await client.zrem(self._wake, request_id)
        else:
            await client.zadd(self._wake, {request_id: at})
