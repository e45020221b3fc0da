"""The HumanStore contract, run on every store: first answer wins, claims are exclusive leases."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from aiflows.human import (
    HumanRequest,
    MemoryHumanStore,
    RedisHumanStore,
    SqliteHumanStore,
)


def make_request(
    request_id: str = "r1", session: str = "s", deadline: float | None = None, run_id: str = "run1"
) -> HumanRequest:
    return HumanRequest(
        id=request_id,
        run_id=run_id,
        path="/0",
        address="a/h",
        session=session,
        kind="text",
        question="Q?",
        choices=[],
        context={"code": "print(1)"},
        created_at=time.time(),
        deadline=deadline,
    )


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """A factory of stores that share their data (handles on one SQLite file or Redis namespace; one memory store)."""
    made: list[Any] = []
    memory = MemoryHumanStore()
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    namespace = f"t{uuid.uuid4().hex[:12]}"

    def make() -> Any:
        if request.param == "memory":
            store: Any = memory
        elif request.param == "sqlite":
            store = SqliteHumanStore(tmp_path / "runs.db")
        else:
            store = RedisHumanStore(url, namespace=namespace)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()


async def test_create_is_idempotent_and_keeps_the_first(stores: Callable[[], Any]) -> None:
    store = stores()
    await store.open()
    first = await store.create(make_request())
    again = await store.create(make_request().model_copy(update={"question": "changed"}))
    assert first.question == again.question == "Q?"
    assert [r.id for r in await store.pending("s")] == ["r1"]
    assert await store.pending("other") == []
    assert await store.get("missing") is None


async def test_first_answer_wins_across_handles(stores: Callable[[], Any]) -> None:
    one, two = stores(), stores()
    await one.open()
    await two.open()
    await one.create(make_request())
    results = await asyncio.gather(
        one.close_request("r1", "answered", {"text": "A"}, "ada", time.time()),
        two.close_request("r1", "answered", {"text": "B"}, "bo", time.time()),
    )
    winners = [current for won, current in results if won]
    assert len(winners) == 1
    stored = await two.get("r1")
    assert stored is not None and stored.answer == winners[0].answer and stored.answered_by == winners[0].answered_by
    lost = next(current for won, current in results if not won)
    assert lost.status == "answered" and lost.answered_by == stored.answered_by  # the loser learns who won
    assert await one.pending() == []


async def test_answered_request_is_due_and_claimed_once(stores: Callable[[], Any]) -> None:
    one, two = stores(), stores()
    await one.open()
    await two.open()
    await one.create(make_request())
    now = time.time()
    assert await one.due(now) == []  # pending without a deadline is never due
    await one.close_request("r1", "answered", {"text": "A"}, "ada", now)
    assert await two.due(now + 0.01) == ["r1"]
    claims = [await one.claim("r1", now + 0.01, now + 60), await two.claim("r1", now + 0.01, now + 60)]
    assert sum(c is not None for c in claims) == 1
    assert await one.due(now + 1) == []  # leased
    assert await one.due(now + 61) == ["r1"]  # a dead claimer's lease runs out: nothing is lost
    await two.consume("r1")
    assert await one.due(now + 1000) == []
    assert (await one.get("r1")).consumed is True


async def test_deadline_makes_a_pending_request_due_and_holds_are_visible(stores: Callable[[], Any]) -> None:
    store = stores()
    await store.open()
    now = time.time()
    await store.create(make_request(deadline=now + 5))
    assert await store.due(now) == []
    assert await store.due(now + 5) == ["r1"]
    await store.hold("r1", now + 30)
    claimed = await store.claim("r1", now + 5, now + 65)
    assert claimed is not None and claimed.held_until == now + 30
    await store.reschedule("r1", None)
    assert await store.due(now + 1000) == []


async def test_expire_is_final(stores: Callable[[], Any]) -> None:
    store = stores()
    await store.open()
    await store.create(make_request())
    won, _ = await store.close_request("r1", "expired", None, None, time.time())
    late, current = await store.close_request("r1", "answered", {"text": "late"}, "ada", time.time())
    assert won and not late and current.status == "expired" and current.answer is None


async def test_for_run_lists_every_request_of_the_run(stores: Callable[[], Any]) -> None:
    store = stores()
    await store.open()
    await store.create(make_request("a", run_id="x"))
    await store.create(make_request("b", run_id="x"))
    await store.create(make_request("c", run_id="y"))
    await store.close_request("a", "answered", {"text": "t"}, "ada", time.time())
    assert [r.id for r in await store.for_run("x")] == ["a", "b"]
