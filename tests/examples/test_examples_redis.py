"""The core's examples over Redis: the composite on one worker, its subflows on another, same answers."""

from __future__ import annotations

import importlib
import sys
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bus" / "support"))

from redis_support import WorkerProcess  # noqa: E402

from aiflows import Runtime  # noqa: E402
from aiflows.bus.redis import RedisBus  # noqa: E402
from aiflows.runtime.store.redis import RedisStore  # noqa: E402

CASES = [
    ("sequential", "pipeline", {"text": "the quick brown fox"}),
    ("loop", "search", {"secret": 37}),
    ("branch", "router", {"n": 7}),
    ("branch", "router", {"n": 5000}),
    ("parallel", "scores", {"text": "Flows compose"}),
    ("parallel", "batch", {"texts": ["a b c", "hello world", "aiflows"]}),
    ("custom_composite", "write_review", {"topic": "durable flows"}),
]


@pytest.mark.parametrize(("module", "attr", "data"), CASES, ids=[f"{m}:{a}:{i}" for i, (m, a, _) in enumerate(CASES)])
async def test_example_runs_over_redis_with_workers(redis_url: str, module: str, attr: str, data: dict) -> None:
    flow = getattr(importlib.import_module(f"examples.{module}"), attr)
    async with Runtime() as local:
        expected = (await local.run(flow, data, session="s")).unwrap()
    ns = f"e{uuid.uuid4().hex[:10]}"
    target = f"examples.{module}:{attr}"
    with (
        WorkerProcess(target, redis_url, ns, "--only", flow.name) as top,
        WorkerProcess(target, redis_url, ns, "--exclude", flow.name) as subs,
    ):
        assert top.served == [flow.name] and subs.served and flow.name not in subs.served
        async with Runtime(bus=RedisBus(redis_url, namespace=ns), store=RedisStore(redis_url, namespace=ns)) as rt:
            result = await rt.run(flow.name, data, session="s")
    assert result.unwrap() == expected
