"""The office's writer: group commit with one savepoint per job, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from support.server import prepare
from tests_constants import OPEN_MOMENT

from queue_server.adapters import tables as t
from queue_server.adapters.event_bus import MemoryBus
from queue_server.adapters.sql_store import SqlQueueStore
from queue_server.adapters.sql_writer import SqlStoreFactory
from queue_server.service.ports import FakeClock

DAY = OPEN_MOMENT.date()


@pytest.fixture
def stores(database_url: str) -> Iterator[tuple[SqlStoreFactory, Engine]]:
    engine, _ = prepare(database_url, FakeClock(OPEN_MOMENT))
    factory = SqlStoreFactory(engine, "shirakawa-shimin", MemoryBus())
    yield factory, engine
    factory.close()
    engine.dispose()


def take(store: SqlQueueStore, fail: bool = False) -> int:
    number = store.take_number("certificates", DAY, 1)
    seq = store.next_seq()
    store.append_event(seq, "test.number", OPEN_MOMENT, {"seq": seq, "number": number})
    if fail:
        raise ValueError("refused after taking a number")
    return number


def test_a_failing_job_in_a_group_rolls_back_alone(stores) -> None:
    factory, engine = stores
    gate = threading.Event()
    # The first job holds the writer so the next ones queue up and commit as one group.
    blocker = factory.submit(lambda store: gate.wait(10))
    jobs = [factory.submit(lambda store, i=i: take(store, fail=i == 1)) for i in range(4)]
    gate.set()
    assert blocker.result(10) is True
    outcomes = []
    for job in jobs:
        try:
            outcomes.append(job.result(10))
        except ValueError:
            outcomes.append("refused")
    assert outcomes == [1, "refused", 2, 3]
    with engine.connect() as c:
        last = c.execute(select(t.number_sequences.c.last_number)).scalar_one()
        seqs = c.execute(select(t.office_events.c.seq).order_by(t.office_events.c.seq)).scalars()
        office_seq = c.execute(select(t.offices.c.seq)).scalar_one()
    assert last == 3
    assert list(seqs) == [1, 2, 3]
    assert office_seq == 3


def test_events_of_a_refused_job_are_not_published(stores) -> None:
    factory, engine = stores
    published = []
    factory.bus.publish_after_commit = published.extend  # type: ignore[method-assign]
    factory.run(take)
    with pytest.raises(ValueError):
        factory.run(lambda store: take(store, fail=True))
    factory.run(take)
    assert [n.event["number"] for n in published] == [1, 2]
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(t.office_events)).scalar_one() == 2


def test_a_job_cannot_wait_for_another_job(stores) -> None:
    factory, _ = stores
    with pytest.raises(RuntimeError):
        factory.run(lambda store: factory.run(take))


def test_after_close_the_writer_refuses_new_jobs(stores) -> None:
    factory, _ = stores
    factory.run(take)
    factory.close()
    with pytest.raises(RuntimeError):
        factory.submit(take)
