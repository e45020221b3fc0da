"""The lean hot-path connection against a real redis-server: replies, errors, auth, loss, pub/sub."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aioredis
import redis.exceptions as rex

from aiflows.bus._resp import RespClient, fields_of


async def test_commands_and_pipelines_keep_their_order(redis_url: str, ns: str) -> None:
    client = RespClient(redis_url)
    try:
        assert await client.execute_command("SET", f"{ns}:k", "v") == b"OK"
        assert await client.execute_command("GET", f"{ns}:missing") is None
        # Many tasks share the socket: each gets its own reply.
        values = await asyncio.gather(*(client.execute_command("INCR", f"{ns}:n") for _ in range(200)))
        assert sorted(values) == list(range(1, 201))
        replies = await client.execute_many([("RPUSH", f"{ns}:l", "a", "b"), ("LRANGE", f"{ns}:l", 0, -1)])
        assert replies == [2, [b"a", b"b"]]
        entry = await client.execute_command("XADD", f"{ns}:s", "*", "m", "x", "d", "1.5")
        [[_key, [[entry_id, flat]]]] = await client.execute_command("XREAD", "STREAMS", f"{ns}:s", "0-0")
        assert entry_id == entry and fields_of(flat) == {b"m": b"x", b"d": b"1.5"}
    finally:
        await client.aclose()


async def test_error_replies_raise_redis_py_exceptions(redis_url: str, ns: str) -> None:
    client = RespClient(redis_url)
    try:
        await client.execute_command("SET", f"{ns}:str", "v")
        with pytest.raises(rex.ResponseError, match="WRONGTYPE"):
            await client.execute_command("LPUSH", f"{ns}:str", "x")
        with pytest.raises(rex.NoScriptError):
            await client.execute_command("EVALSHA", "0" * 40, 0)
        replies = await client.execute_many([("LPUSH", f"{ns}:str", "x"), ("GET", f"{ns}:str")], raise_errors=False)
        assert isinstance(replies[0], rex.ResponseError) and replies[1] == b"v"
        with pytest.raises(rex.ResponseError):
            await client.execute_many([("LPUSH", f"{ns}:str", "x"), ("GET", f"{ns}:str")])
        assert await client.execute_command("PING") == b"PONG"  # the connection is still in step
    finally:
        await client.aclose()


async def test_acl_user_database_and_wrong_password(redis_url: str, ns: str) -> None:
    admin = aioredis.Redis.from_url(redis_url)
    await admin.execute_command("ACL", "SETUSER", f"{ns}user", "on", ">pw", f"~{ns}:*", "&*", "+@all")
    parts = urlsplit(redis_url)
    good = RespClient(f"redis://{ns}user:pw@{parts.hostname}:{parts.port}/3")
    bad = RespClient(f"redis://{ns}user:nope@{parts.hostname}:{parts.port}/0")
    try:
        await good.execute_command("SET", f"{ns}:in3", "yes")
        db3 = aioredis.Redis.from_url(redis_url.rsplit("/", 1)[0] + "/3")
        assert await db3.get(f"{ns}:in3") == b"yes" and await admin.get(f"{ns}:in3") is None
        await db3.aclose()
        with pytest.raises(rex.NoPermissionError):
            await good.execute_command("SET", "elsewhere", "x")
        with pytest.raises(rex.AuthenticationError):
            await bad.execute_command("PING")
    finally:
        await good.aclose()
        await admin.execute_command("ACL", "DELUSER", f"{ns}user")
        await admin.aclose()


async def test_a_lost_connection_fails_waiters_and_the_next_command_reconnects(redis_url: str, ns: str) -> None:
    client = RespClient(redis_url)
    blocked = RespClient(redis_url)
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await client.execute_command("PING")
        waiting = asyncio.ensure_future(blocked.execute_command("BLPOP", f"{ns}:never", 0))
        await asyncio.sleep(0.1)
        await admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        with pytest.raises(rex.ConnectionError):
            await waiting
        assert await client.execute_command("PING") == b"PONG"  # connected again
        assert await client.execute_many([("PING",), ("ECHO", "x")]) == [b"PONG", b"x"]
    finally:
        await client.aclose()
        await blocked.aclose()
        await admin.aclose()
    nobody = RespClient("redis://127.0.0.1:1/0", connect_timeout=1)
    with pytest.raises(rex.ConnectionError, match="cannot connect"):
        await nobody.execute_command("PING")


async def test_subscribers_hear_messages_and_learn_of_a_loss(redis_url: str, ns: str) -> None:
    listener = RespClient(redis_url)
    publisher = RespClient(redis_url)
    heard: list[bytes] = []
    try:
        lost = await listener.subscribe(f"{ns}:chan", heard.append)
        for i in range(3):
            await publisher.execute_command("PUBLISH", f"{ns}:chan", f"m{i}")
        for _ in range(100):
            if len(heard) == 3:
                break
            await asyncio.sleep(0.01)
        assert heard == [b"m0", b"m1", b"m2"]
        assert not lost.done()
        await publisher.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
        await asyncio.wait_for(lost, 5)
    finally:
        await listener.aclose()
        await publisher.aclose()


async def test_a_message_right_behind_the_subscription_is_heard(redis_url: str, ns: str) -> None:
    """A message published in the same turn of Redis as the subscription arrives in the same read
    as the confirmation: it must reach the listener, not be taken for a reply."""
    channel = f"{ns}:busy"
    busy, listener, publisher = RespClient(redis_url), RespClient(redis_url), RespClient(redis_url)
    heard: list[bytes] = []
    try:
        for client in (busy, listener, publisher):
            await client.execute_command("PING")
        # Hold Redis in a script for a moment: the subscription and then the message queue up behind
        # it, and Redis takes both in its next turn, in the order they came.
        spin = (
            "local t = redis.call('TIME') local stop = t[1] * 1e6 + t[2] + 200000 "
            "repeat t = redis.call('TIME') until t[1] * 1e6 + t[2] > stop return 1"
        )
        held = asyncio.ensure_future(busy.execute_command("EVAL", spin, 0))
        await asyncio.sleep(0.05)
        subscribing = asyncio.ensure_future(listener.subscribe(channel, heard.append))
        await asyncio.sleep(0.02)
        published = asyncio.ensure_future(publisher.execute_command("PUBLISH", channel, "right behind"))
        assert await held == 1
        lost = await subscribing
        assert await published == 1  # the subscription came first
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.01)
        assert heard == [b"right behind"]
        assert not lost.done(), "the subscription was dropped"
    finally:
        for client in (busy, listener, publisher):
            await client.aclose()


async def test_unix_socket_urls(
    redis_url: str, tmp_path
) -> None:  # redis_url: redis-server is here (or the test skips)
    import subprocess

    sock = tmp_path / "redis.sock"
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = RespClient(f"unix://{sock}?db=2")
    try:
        for _ in range(100):
            if sock.exists():
                break
            await asyncio.sleep(0.05)
        assert await client.execute_command("SET", "k", "v") == b"OK"
        info = (await client.execute_command("CLIENT", "INFO")).decode()
        assert " db=2 " in info
    finally:
        await client.aclose()
        server.terminate()
        server.wait()
