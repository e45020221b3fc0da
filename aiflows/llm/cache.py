"""A response cache keyed by the exact request, so reruns cost nothing.

The key is a hash of everything that decides the answer (model, messages, sampling options, n,
response format) and nothing else: api keys, api bases and other credentials never reach a
`Request`, hence never the key or the stored value. SQLite by default, Redis when given a URL
or a client. `CachedBackend` wraps any backend with a cache and keeps its interface.

    cache = open_cache("sqlite", home=Path("~/.aiflows").expanduser())
    backend = CachedBackend(LiteLLMBackend("openai/gpt-4o-mini"), cache)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .types import Backend, Chunk, Completion, Request, Usage, collect

__all__ = ["CachedBackend", "RedisCache", "ResponseCache", "SQLiteCache", "cache_key", "open_cache"]

_KEY_VERSION = 1


def cache_key(request: Request, namespace: str = "") -> str:
    """A stable hex digest of the request (and an optional namespace that separates endpoints)."""
    payload = {"v": _KEY_VERSION, "ns": namespace, **request.model_dump(mode="json")}
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


@runtime_checkable
class ResponseCache(Protocol):
    """Where completions are kept between runs."""

    async def get(self, key: str) -> Completion | None: ...

    async def put(self, key: str, completion: Completion) -> None: ...

    async def close(self) -> None: ...


class SQLiteCache:
    """Completions in one SQLite file (WAL mode, safe to share between processes).

    Lookups are a primary-key read on a local file, fast enough to do on the event loop.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = sqlite3.connect(
            self.path, check_same_thread=False, timeout=30, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError(f"SQLiteCache {self.path} is closed")
        return self._db

    async def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._conn().execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        return Completion.model_validate_json(row[0]) if row else None

    async def put(self, key: str, completion: Completion) -> None:
        value = completion.model_dump_json()
        with self._lock:
            self._conn().execute("INSERT OR REPLACE INTO responses (key, value) VALUES (?, ?)", (key, value))

    async def clear(self) -> None:
        with self._lock:
            self._conn().execute("DELETE FROM responses")

    async def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __repr__(self) -> str:
        return f"SQLiteCache({str(self.path)!r})"


class RedisCache:
    """Completions in Redis under `{namespace}:llm:{key}`, optionally expiring.

    Args:
        target: a redis URL (`redis://`, `rediss://`, `unix://`) or a `redis.asyncio.Redis` client.
        namespace: key prefix, to share one Redis between projects.
        ttl_s: seconds a completion is kept (None keeps it).
    """

    def __init__(self, target: str | Any, *, namespace: str = "aiflows", ttl_s: int | None = None) -> None:
        self._url = target if isinstance(target, str) else None
        self._client: Any = None if isinstance(target, str) else target
        self._loop: asyncio.AbstractEventLoop | None = None
        self.namespace = namespace
        self.ttl_s = ttl_s

    def _redis(self) -> Any:
        # A URL-made client belongs to one event loop; make a new one when run from another loop.
        loop = asyncio.get_running_loop()
        if self._url is not None and (self._client is None or self._loop is not loop):
            import redis.asyncio as aioredis

            self._client = aioredis.Redis.from_url(self._url)
            self._loop = loop
        return self._client

    def _key(self, key: str) -> str:
        return f"{self.namespace}:llm:{key}"

    async def get(self, key: str) -> Completion | None:
        raw = await self._redis().get(self._key(key))
        return Completion.model_validate_json(raw) if raw else None

    async def put(self, key: str, completion: Completion) -> None:
        await self._redis().set(self._key(key), completion.model_dump_json(), ex=self.ttl_s)

    async def close(self) -> None:
        if self._url is not None and self._client is not None:
            await self._client.aclose()
            self._client = None

    def __repr__(self) -> str:
        return f"RedisCache(namespace={self.namespace!r})"


def open_cache(spec: str | None, *, home: Path) -> ResponseCache | None:
    """The cache a config names.

    None, "off" or "none": no cache; "on", "sqlite" or "default": `home/llm_cache.sqlite`;
    a `redis://`/`rediss://`/`unix://` URL: Redis; anything else: a SQLite file path.
    """
    if spec is None or spec.strip().lower() in ("", "off", "none", "false"):
        return None
    value = spec.strip()
    if value.lower() in ("on", "sqlite", "default", "true"):
        return SQLiteCache(home / "llm_cache.sqlite")
    if value.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(value)
    return SQLiteCache(value)


def _as_hit(completion: Completion) -> Completion:
    u = completion.usage
    usage = Usage(
        prompt_tokens=u.prompt_tokens,
        completion_tokens=u.completion_tokens,
        total_tokens=u.total_tokens,
        cost_usd=0.0,
        calls=1,
        cached_calls=1,
    )
    return completion.model_copy(update={"usage": usage, "cached": True})


class CachedBackend:
    """A backend that answers repeated requests from a cache; same interface as the one it wraps.

    A hit costs nothing (cost 0, `cached=True`); a streamed hit arrives as one chunk per completion.
    """

    def __init__(self, inner: Backend, cache: ResponseCache, *, namespace: str = "") -> None:
        self.inner = inner
        self.cache = cache
        self.namespace = namespace

    async def complete(self, request: Request) -> Completion:
        key = cache_key(request, self.namespace)
        hit = await self.cache.get(key)
        if hit is not None:
            return _as_hit(hit)
        completion = await self.inner.complete(request)
        await self.cache.put(key, completion.model_copy(update={"cached": False}))
        return completion

    async def stream(self, request: Request) -> AsyncIterator[Chunk]:
        key = cache_key(request, self.namespace)
        hit = await self.cache.get(key)
        if hit is not None:
            done = _as_hit(hit)
            for i, text in enumerate(done.completions):
                reason = done.finish_reasons[i] if i < len(done.finish_reasons) else None
                yield Chunk(index=i, delta=text, finish_reason=reason)
            yield Chunk(usage=done.usage)
            return
        seen: list[Chunk] = []
        async for chunk in self.inner.stream(request):
            seen.append(chunk)
            yield chunk
        completion = await collect(_replay(seen), request.n)
        await self.cache.put(key, completion)


async def _replay(chunks: list[Chunk]) -> AsyncIterator[Chunk]:
    for chunk in chunks:
        yield chunk
