"""The human-answer resumer through a Redis outage: one line when Redis goes, one when it is back."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest

from aiflows import Runtime
from aiflows.bus.local import LocalBus
from aiflows.human import HumanDesk
from aiflows.runtime.store.redis import RedisStore

pytestmark = [pytest.mark.slow, pytest.mark.chaos]


async def test_the_resumer_says_once_that_redis_is_away_and_once_that_it_is_back(
    redis_server, caplog: pytest.LogCaptureFixture
) -> None:
    ns = f"h{uuid.uuid4().hex[:8]}"
    async with Runtime(bus=LocalBus(), store=RedisStore(redis_server.url, namespace=ns)) as rt:
        desk = HumanDesk(rt)
        with caplog.at_level(logging.INFO, logger="aiflows.human"):
            serving = asyncio.create_task(desk.serve(poll_s=0.05))
            try:
                await asyncio.sleep(0.3)
                redis_server.stop()
                await asyncio.sleep(1.5)  # about twenty polls while Redis is away
                redis_server.start()
                for _ in range(300):
                    if any("reachable again" in r.getMessage() for r in caplog.records):
                        break
                    await asyncio.sleep(0.05)
                assert not serving.done()  # it kept serving through the outage
            finally:
                serving.cancel()
                await asyncio.gather(serving, return_exceptions=True)
    said = [r.getMessage() for r in caplog.records if r.name == "aiflows.human"]
    assert sum("is unreachable" in line for line in said) == 1, said
    assert sum("reachable again" in line for line in said) == 1, said
    assert not any("TaskGroup" in line for line in said)
    assert all("RedisHumanStore" in line for line in said)  # it says which store, hence which Redis
