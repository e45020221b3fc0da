"""How a worker reads its inboxes: blocking XREADGROUPs, a few dozen inboxes each.

An XREADGROUP costs Redis about a microsecond for every stream it names, each time it is sent,
and a worker sends its read again after every batch. One read over the 1000 inboxes of a large
composite tree cost Redis 1.26 ms per request, more than everything else the request did. So a
worker reads its inboxes in groups of `READ_CHUNK`, each read on a connection and in a task of
its own: a request wakes only the read that names its inbox, and only that one is sent again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ._redis_conn import Keys, RedisBusError, retrying
from ._redis_settings import RedisBusSettings
from ._resp import fields_of

__all__ = ["READ_CHUNK", "InboxReads", "Reader"]

GROUP = Keys.GROUP
READ_CHUNK = 32  # inboxes per blocking read

Fields = dict[bytes, bytes]


@dataclass(slots=True, eq=False)
class Reader:
    """One blocking read over some inboxes. An entry on its wake stream makes it read them again
    (after an inbox joined it)."""

    wake: str
    client: Any  # a lean connection of its own: the read blocks it
    addresses: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    args: list[bytes] | None = None  # the read's streams, encoded once per change of its inboxes


class InboxReads:
    """A worker's reads over the inboxes it serves; each request read goes to the worker.

    Args:
        client: redis-py, for the wake streams.
        connect: a new lean connection, one per read.
        ensure_group: creates a stream's consumer group (key, first id) if it is missing.
        free: how many more requests the worker can take now.
        slot: set when a request ends (a read waiting for room looks again).
        start: handles a request in a task of its own (address, entry id, fields, deliveries).
        handle_here: handles a request in the calling task (address, entry id, fields).
        stopping: whether the worker is shutting down.
    """

    def __init__(
        self,
        client: Any,
        connect: Callable[[], Any],
        keys: Keys,
        settings: RedisBusSettings,
        consumer: str,
        *,
        ensure_group: Callable[[str, str], Awaitable[None]],
        free: Callable[[], int],
        slot: asyncio.Event,
        start: Callable[[str, str, Fields, int], None],
        handle_here: Callable[[str, str, Fields], Awaitable[None]],
        stopping: Callable[[], bool],
    ) -> None:
        self.client = client
        self.connect = connect
        self.keys = keys
        self.settings = settings
        self.consumer = consumer
        self.ensure_group = ensure_group
        self.free = free
        self.slot = slot
        self.start = start
        self.handle_here = handle_here
        self.stopping = stopping
        self.readers: list[Reader] = []

    async def add(self, address: str) -> None:
        """Have a read take `address`'s inbox: the last one while it has room (woken to see it), else a new one."""
        readers = self.readers
        if readers and len(readers[-1].addresses) < READ_CHUNK:
            reader = readers[-1]
            reader.addresses.append(address)
            reader.args = None
            await self.client.xadd(reader.wake, {"w": address}, maxlen=10)
            return
        reader = Reader(f"{self.keys.wake(self.consumer)}:{len(readers)}", self.connect(), [address])
        readers.append(reader)
        await self.ensure_group(reader.wake, "$")
        reader.task = asyncio.get_running_loop().create_task(self._read_loop(reader), name="redisbus:read")

    async def _read_loop(self, reader: Reader) -> None:
        import redis.exceptions as rex

        while not self.stopping():
            free = self.free()
            if free <= 0:
                self.slot.clear()
                await self.slot.wait()
                continue
            if reader.args is None:
                keys = [reader.wake.encode(), *(self.keys.inbox(a).encode() for a in reader.addresses)]
                reader.args = [b"STREAMS", *keys, *([b">"] * len(keys))]
            count = max(1, free // len(self.readers))  # the reads share the worker's free slots
            read = partial(
                reader.client.execute_command,
                "XREADGROUP",
                b"GROUP",
                GROUP.encode(),
                self.consumer.encode(),
                b"COUNT",
                count,
                b"BLOCK",
                self.settings.block_ms,
                *reader.args,
            )
            try:
                response = await retrying(
                    read, what="reading inboxes", closed=self.stopping, backoff_max=self.settings.backoff_max
                )
            except RedisBusError:  # the worker is stopping
                return
            except rex.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                for address in list(reader.addresses):  # Redis lost our groups (a restart without persistence)
                    await self.ensure_group(self.keys.inbox(address), "0")
                await self.ensure_group(reader.wake, "$")
                continue
            arrived: list[tuple[str, str, Fields]] = []
            for stream, entries in response or ():
                key = stream.decode()
                if key == reader.wake:
                    await self.client.xack(reader.wake, GROUP, *[e[0] for e in entries])
                    continue
                address = self.keys.address_of(key)
                arrived += [(address, entry_id.decode(), fields_of(flat)) for entry_id, flat in entries]
            if arrived:
                for address, entry_id, fields in arrived[1:]:
                    self.start(address, entry_id, fields, 1)
                await self._read_on_and_handle(reader, *arrived[0])
                return

    async def _read_on_and_handle(self, reader: Reader, address: str, entry_id: str, fields: Fields) -> None:
        """Hand the read over to a new task and handle this request in this one: it starts at once
        rather than one event-loop turn later, a sizable part of a short request's time."""
        reader.task = asyncio.get_running_loop().create_task(self._read_loop(reader), name="redisbus:read")
        await self.handle_here(address, entry_id, fields)

    def stop(self) -> list[asyncio.Task[None]]:
        """Cancel the reads and drop their connections; the tasks, for the caller to wait for."""
        tasks = [reader.task for reader in self.readers if reader.task is not None]
        for reader in self.readers:
            if reader.task is not None:
                reader.task.cancel()
            reader.client.disconnect()
        return tasks

    @property
    def wake_keys(self) -> list[str]:
        return [reader.wake for reader in self.readers]
