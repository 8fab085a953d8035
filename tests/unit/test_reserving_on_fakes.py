"""Reservations on the in-memory fakes: a booked visit keeps its place past the daily cap."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest
from tests_constants import TOKYO

from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.domain.errors import DailyCapReached
from queue_server.domain.estimate import forward_estimate
from queue_server.service.fakes import FakeStoreFactory, FakeTables
from queue_server.service.ports import FakeClock
from queue_server.service.queue import QueueService

WEDNESDAY = datetime(2026, 11, 25, 8, 0, tzinfo=TOKYO)
SLOT = datetime(2026, 11, 26, 10, 0, tzinfo=TOKYO)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(WEDNESDAY)


@pytest.fixture
def service(clock: FakeClock) -> QueueService:
    raw = copy.deepcopy(read_office_file(DEMO_OFFICE))
    next(c for c in raw["categories"] if c["id"] == "mynumber")["daily_cap"] = 1
    office = parse_office(raw)
    tables = FakeTables.for_office(
        office.id, raw, WEDNESDAY, office.business_date(WEDNESDAY) - timedelta(days=1)
    )
    for counter in office.counters:
        tables.counters[counter.id] = ("open", WEDNESDAY)
    return QueueService(
        FakeStoreFactory(tables),
        clock,
        parse_office,
        "https://city.example/",
        forward_estimate,
        code_secret=b"fake-secret",
    )


def test_a_booked_visit_is_served_past_the_daily_cap(
    service: QueueService, clock: FakeClock
) -> None:
    booking = service.book("mynumber", SLOT, "ja")
    clock.set(datetime(2026, 11, 26, 9, 35, tzinfo=TOKYO))
    service.issue_ticket("mynumber")  # the day's one walk-in place
    with pytest.raises(DailyCapReached):
        service.issue_ticket("mynumber")
    assert service.verify_code(booking["short_code"]).expires_at == SLOT + timedelta(minutes=15)
    ticket = service.issue_ticket(None, code=booking["short_code"])
    assert (ticket.category_id, ticket.priority) == ("mynumber", "reservation")
    assert service.find_reservation(booking["code"])["state"] == "checked_in"
