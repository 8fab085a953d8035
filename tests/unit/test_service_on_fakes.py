"""The queue service runs on the in-memory fakes of its ports: no database needed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests_constants import OPEN_MOMENT

from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.domain.errors import CounterBusy
from queue_server.domain.estimate import forward_estimate
from queue_server.domain.ticket import Action
from queue_server.service.fakes import FakeStoreFactory, FakeTables
from queue_server.service.ports import FakeClock
from queue_server.service.queue import QueueService

RAW = read_office_file(DEMO_OFFICE)
OFFICE = parse_office(RAW)
COUNTER = OFFICE.counters[0]
CATEGORY = COUNTER.categories[0]


CLOCK = FakeClock(OPEN_MOMENT)


@pytest.fixture
def service() -> QueueService:
    CLOCK.set(OPEN_MOMENT)
    day = OFFICE.business_date(OPEN_MOMENT)
    tables = FakeTables.for_office(OFFICE.id, RAW, OPEN_MOMENT, day - timedelta(days=1))
    for counter in OFFICE.counters:
        tables.counters[counter.id] = ("open", OPEN_MOMENT)
    stores = FakeStoreFactory(tables)
    return QueueService(stores, CLOCK, parse_office, "https://city.example/", forward_estimate)


def test_a_visit_from_issue_to_finish(service: QueueService) -> None:
    first = service.issue_ticket(CATEGORY)
    second = service.issue_ticket(CATEGORY)
    assert (first.ahead, second.ahead) == (0, 1)
    assert second.status_url == f"https://city.example/t/{second.public_id}"
    called = service.call_next(COUNTER.id)
    assert called is not None and called.id == first.id and called.state == "called"
    with pytest.raises(CounterBusy):
        service.call_next(COUNTER.id)
    assert service.act(first.id, Action.FINISH).state == "done"
    state = service.refresh_state()
    waiting = {c["id"]: c["waiting"] for c in state.status["categories"]}
    assert waiting[CATEGORY] == 1
    assert [t.id for t in service.waiting(CATEGORY)] == [second.id]


def test_the_day_closes_on_the_first_use_of_the_next_day(service: QueueService) -> None:
    ticket = service.issue_ticket(CATEGORY)
    CLOCK.advance(days=1)
    assert service.close_day_if_due()
    assert service.ticket(ticket.id).state == "cancelled"
