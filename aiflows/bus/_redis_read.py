"""How a worker reads its inboxes: blocking XREADGROUPs, a few dozen inboxes each.

An XREADGROUP costs Redis about a microsecond for every stream it names, each time it is sent,
and a worker sends its read again after every batch. One read over the 1000 inboxes of a large
composite tree cost Redis 1.26 ms per request, more than everything else the request did. So a
worker reads its inboxes in groups of `READ_CHUNK`, each read on a connection and in a task of
its own: a request wakes only the read that names its inbox, and only that one is sent again.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from ._redis_conn import Keys, RedisBusError, connect_lean, retrying
from ._resp import fields_of

if TYPE_CHECKING:
    from ._redis_serve import Server

__all__ = ["READ_CHUNK", "Reader", "Reading"]

GROUP = Keys.GROUP
READ_CHUNK = 32  # inboxes per blocking read


@dataclass(slots=True, eq=False)
class Reader:
    """One blocking read over some inboxes. An entry on its wake stream makes it read them again
    (after an inbox joined it)."""

    wake: str
    client: Any  # a lean connection of its own: the read blocks it
    addresses: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    args: list[bytes] | None = None  # the read's streams, encoded once per change of its inboxes


class Reading:
    """Mixed into `Server`: its reads."""

    async def _read_inbox(self: Server, address: str) -> None:
        """Have a read take `address`'s inbox: the last one while it has room (woken to see it), else a new one."""
        readers = self._readers
        if readers and len(readers[-1].addresses) < READ_CHUNK:
            reader = readers[-1]
            reader.addresses.append(address)
            reader.args = None
            await self.bus.client.xadd(reader.wake, {"w": address}, maxlen=10)
            return
        reader = Reader(f"{self.keys.wake(self.consumer)}:{len(readers)}", connect_lean(self.bus.url, self.bus.tls),
                        [address])
        readers.append(reader)
        await self._ensure_group(reader.wake, "$")
        reader.task = asyncio.get_running_loop().create_task(self._read_loop(reader), name="redisbus:read")

    def _free(self: Server) -> int:
        return self.settings.concurrency - len(self._tasks)

    async def _read_loop(self: Server, reader: Reader) -> None:
        import redis.exceptions as rex

        while not self._stopping:
            free = self._free()
            if free <= 0:
                self._slot.clear()
                await self._slot.wait()
                continue
            if reader.args is None:
                keys = [reader.wake.encode(), *(self.keys.inbox(a).encode() for a in reader.addresses)]
                reader.args = [b"STREAMS", *keys, *([b">"] * len(keys))]
            count = max(1, free // len(self._readers))  # the reads share the worker's free slots
            read = partial(reader.client.execute_command, "XREADGROUP", b"GROUP", GROUP.encode(),
                           self.consumer.encode(), b"COUNT", count, b"BLOCK", self.settings.block_ms, *reader.args)
            try:
                response = await retrying(read, what="reading inboxes", closed=lambda: self._stopping,
                                          backoff_max=self.settings.backoff_max)
            except RedisBusError:  # the worker is stopping
                return
            except rex.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                for address in list(reader.addresses):  # Redis lost our groups (a restart without persistence)
                    await self._ensure_group(self.keys.inbox(address))
                await self._ensure_group(reader.wake, "$")
                continue
            arrived: list[tuple[str, str, dict[bytes, bytes]]] = []
            for stream, entries in response or ():
                key = stream.decode()
                if key == reader.wake:
                    await self.bus.client.xack(reader.wake, GROUP, *[e[0] for e in entries])
                    continue
                address = self.keys.address_of(key)
                arrived += [(address, entry_id.decode(), fields_of(flat)) for entry_id, flat in entries]
            if arrived:
                for address, entry_id, fields in arrived[1:]:
                    self._start(address, entry_id, fields, 1)
                await self._read_on_and_handle(reader, *arrived[0])
                return

    async def _read_on_and_handle(self: Server, reader: Reader, address: str, entry_id: str,
                                  fields: dict[bytes, bytes]) -> None:
        """Hand the read over to a new task and handle this request in this one: it starts at once
        rather than one event-loop turn later, a sizable part of a short request's time."""
        task = asyncio.current_task()
        assert task is not None
        reader.task = asyncio.get_running_loop().create_task(self._read_loop(reader), name="redisbus:read")
        task.set_name(f"redisbus:{address}:{entry_id}")
        self.entries[address][entry_id] = time.monotonic()
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        await self._process(address, entry_id, fields, 1)

    def _stop_reading(self: Server) -> list[asyncio.Task[None]]:
        """Cancel the reads and drop their connections; the tasks, for the caller to wait for."""
        tasks = [reader.task for reader in self._readers if reader.task is not None]
        for reader in self._readers:
            if reader.task is not None:
                reader.task.cancel()
            reader.client.disconnect()
        return tasks
