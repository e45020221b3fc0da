"""What a paired store and the bus hand each other through `Deliveries`: by request id and run id."""

from __future__ import annotations

from aiflows.bus._redis_records import Carried, Deliveries


def test_records_deferred_to_a_request_go_out_with_its_answer_and_not_after() -> None:
    deliveries = Deliveries(("redis://h/0", "ns"))
    delivery = deliveries.begin("req", "run", fresh=False, start_landed=True)
    assert deliveries.defer("req", ("HSET", "k", "f", "v"))
    assert not deliveries.defer("another", ("HSET", "k", "f", "v"))  # not being handled here: its store writes it
    assert deliveries.start_landed("req", "run") and not deliveries.start_landed("req", "other-run")
    assert deliveries.end(delivery) == [("HSET", "k", "f", "v")]
    assert not deliveries.defer("req", ("HSET", "k", "f", "v"))  # answered: too late to travel with it
    assert not deliveries.start_landed("req", "run")


def test_a_fresh_run_stays_fresh_for_its_handlers_calls_until_its_journal_is_read() -> None:
    deliveries = Deliveries(("redis://h/0", "ns"))
    delivery = deliveries.begin("req", "run", fresh=True, start_landed=False)
    assert deliveries.fresh_run("run") and deliveries.calls_from_fresh("req")
    assert not deliveries.calls_from_fresh("other") and not deliveries.calls_from_fresh(None)
    deliveries.journal_read("run")
    assert not deliveries.fresh_run("run") and not deliveries.calls_from_fresh("req")
    deliveries.end(delivery)
    again = deliveries.begin("req2", "run", fresh=True, start_landed=False)
    deliveries.end(again)
    assert not deliveries.fresh_run("run")  # nothing of the run is being handled here any more


def test_a_runs_start_is_taken_once_by_its_first_request_unless_withdrawn() -> None:
    deliveries = Deliveries(("redis://h/0", "ns"))
    start = Carried([("HSET", "run:r", "start", "{}")], failed=lambda: None)
    deliveries.offer("r", start)
    assert deliveries.take_offered("other") is None
    assert deliveries.take_offered("r") is start and start.taken
    assert deliveries.take_offered("r") is None
    deliveries.offer("s", Carried([], failed=lambda: None))
    deliveries.withdraw("s")  # the store wrote it itself
    assert deliveries.take_offered("s") is None
