"""One contract per store port, held by the in-memory fake and by the SQL store on SQLite and
PostgreSQL, so the fakes cannot drift from the database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from support.server import prepare
from tests_constants import OPEN_MOMENT

from queue_server.adapters.event_bus import MemoryBus
from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.adapters.sql_writer import SqlStoreFactory
from queue_server.domain.ticket import Priority, Ticket, TicketState
from queue_server.service.fakes import FakeStoreFactory, FakeTables
from queue_server.service.ports import FakeClock, QueueStore, StoreFactory

RAW = read_office_file(DEMO_OFFICE)
OFFICE = parse_office(RAW)
DAY = OFFICE.business_date(OPEN_MOMENT)
AT = OPEN_MOMENT
COUNTER = OFFICE.counters[0]
CATEGORY = OFFICE.category(COUNTER.categories[0])
OTHER = next(c for c in OFFICE.categories if c.id != CATEGORY.id)


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest) -> Iterator[StoreFactory]:
    """The fake, or the SQL store on SQLite and on PostgreSQL (as `database_url` gives them)."""
    if request.param == "fake":
        tables = FakeTables.for_office(OFFICE.id, RAW, AT, DAY - timedelta(days=1))
        for counter in OFFICE.counters:
            tables.counters[counter.id] = ("open", AT)
        tables.add_device("kiosk-1", "kiosk")
        tables.add_device("board-1", "board")
        yield FakeStoreFactory(tables)
        return
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    engine, _ = prepare(url, FakeClock(AT))
    factory = SqlStoreFactory(engine, OFFICE.id, MemoryBus())
    yield factory
    factory.close()
    engine.dispose()


def issue(
    store: QueueStore,
    minutes: int = 0,
    category_id: str = CATEGORY.id,
    priority: Priority = Priority.NORMAL,
) -> Ticket:
    category = OFFICE.category(category_id)
    number = store.take_number(category.id, DAY, category.number_start)
    ticket = Ticket.issue(
        office_id=OFFICE.id,
        business_date=DAY,
        category_id=category.id,
        number=number,
        display_number=category.display_number(number),
        public_id=f"p-{category.id}-{number}",
        priority=priority,
        language="ja",
        at=AT + timedelta(minutes=minutes),
    )
    store.add_ticket(ticket, "kiosk-1")
    return ticket


def test_office_store_counts_seqs_and_keeps_events(stores: StoreFactory) -> None:
    def write(store: QueueStore) -> int:
        assert store.office().id == OFFICE.id
        assert store.office_config() == RAW
        assert store.last_event_at() is None
        first = store.next_seq()
        store.append_event(first, "test.one", AT, {"seq": first})
        second = store.next_seq()
        store.append_event(second, "test.two", AT + timedelta(minutes=1), {"seq": second})
        store.set_closed_through(DAY)
        return second - first

    assert stores.run(write) == 1
    with stores.read() as store:
        record = store.office()
        assert (record.seq, record.closed_through) == (2, DAY)
        assert store.last_event_at() == AT + timedelta(minutes=1)

    def refused(store: QueueStore) -> None:
        store.append_event(store.next_seq(), "test.refused", AT, {})
        raise ValueError("refused")

    with pytest.raises(ValueError):
        stores.run(refused)
    with stores.read() as store:
        assert store.office().seq == 2


def test_number_store_numbers_each_category_and_day_from_its_first(stores: StoreFactory) -> None:
    def write(store: QueueStore) -> list[int]:
        return [
            store.take_number("a", DAY, 1),
            store.take_number("a", DAY, 1),
            store.take_number("b", DAY, 101),
            store.take_number("a", DAY + timedelta(days=1), 1),
        ]

    assert stores.run(write) == [1, 2, 101, 1]
    with stores.read() as store:
        assert store.last_numbers(DAY) == {"a": 2, "b": 101}


def test_ticket_store_keeps_the_queue_in_call_order(stores: StoreFactory) -> None:
    def write(store: QueueStore) -> list[Ticket]:
        normal = issue(store, 0)
        assisted = issue(store, 1, priority=Priority.ASSISTANCE)
        later = issue(store, 2)
        elsewhere = issue(store, 3, OTHER.id)
        assert store.waiting_ahead(CATEGORY.id, DAY, Priority.NORMAL.rank) == 3
        assert store.waiting_ahead(CATEGORY.id, DAY, Priority.ASSISTANCE.rank) == 1
        assert store.head_of_queue(CATEGORY.id, DAY).id == assisted.id
        normal.call(COUNTER.id, AT + timedelta(minutes=5))
        store.save_ticket(normal, "staff:clerk0")
        normal.recall(AT + timedelta(minutes=6))
        store.save_ticket(normal, "staff:clerk0")
        store.set_print_outcome(later, "failed", "paper_out", AT)
        return [normal, assisted, later, elsewhere]

    normal, assisted, later, elsewhere = stores.run(write)
    assert normal.id is not None and not normal.transitions
    with stores.read() as store:
        stored = store.ticket(normal.id)
        assert stored is not None
        assert (stored.state, stored.counter_id, stored.recall_count) == (
            TicketState.CALLED,
            COUNTER.id,
            1,
        )
        assert store.ticket_by_public_id(later.public_id).print_outcome == "failed"
        assert store.ticket(10_000) is None and store.ticket_by_public_id("nobody") is None
        assert [t.id for t in store.waiting(DAY, CATEGORY.id)] == [assisted.id, later.id]
        assert [t.id for t in store.waiting(DAY)] == [assisted.id, later.id, elsewhere.id]
        assert [(w.id, w.priority_rank) for w in store.waiting_queue(DAY)] == [
            (assisted.id, 0),
            (later.id, 2),
            (elsewhere.id, 2),
        ]
        assert store.rank(later) == 1 and store.rank(assisted) == 0
        assert [t.id for t in store.tickets_at_counter(COUNTER.id, DAY)] == [normal.id]
        assert [t.id for t in store.occupied_counters(DAY)] == [normal.id]
        assert {t.id for t in store.open_tickets_through(DAY)} == {
            normal.id,
            assisted.id,
            later.id,
            elsewhere.id,
        }
        calls = store.recent_calls(DAY, 10)
        assert [(c.display_number, c.counter_id, c.recall) for c in calls] == [
            (normal.display_number, COUNTER.id, True),
            (normal.display_number, COUNTER.id, False),
        ]
        assert len(store.recent_calls(DAY, 1)) == 1


def test_counter_store_keeps_each_counters_state(stores: StoreFactory) -> None:
    stores.run(lambda store: store.set_counter_state(COUNTER.id, "paused", AT))
    with stores.read() as store:
        states = store.counter_states()
    assert states[COUNTER.id] == "paused"
    assert set(states) == {c.id for c in OFFICE.counters}


def test_code_store_redeems_once_and_hands_out_preapplications_once(
    stores: StoreFactory,
) -> None:
    record = {
        "reference": "ref-1",
        "category_id": CATEGORY.id,
        "form": "juminhyo",
        "data": {"copies": 1},
        "language": "ja",
        "created_at": AT,
        "expires_at": AT + timedelta(days=7),
    }

    def write(store: QueueStore) -> None:
        ticket = issue(store)
        assert not store.code_redeemed("fp-1")
        store.redeem_code("fp-1", ticket, AT)
        store.add_preapplication(record)
        store.add_preapplication({**record, "reference": "ref-old", "expires_at": AT})
        store.audit("staff:clerk0", "request.viewed", ticket.id, AT)

    stores.run(write)

    def take(store: QueueStore) -> tuple[object, object, int]:
        assert store.code_redeemed("fp-1")
        taken = store.take_preapplication("ref-1")
        again = store.take_preapplication("ref-1")
        return taken, again, store.delete_expired_preapplications(AT)

    taken, again, expired = stores.run(take)
    assert isinstance(taken, dict) and (taken["form"], taken["data"]) == ("juminhyo", {"copies": 1})
    assert again is None and expired == 1


def test_device_store_keeps_the_last_health_report(stores: StoreFactory) -> None:
    health = {"printer": {"online": True, "paper": "near_end"}}
    stores.run(lambda store: store.set_device_health("kiosk-1", health, AT))
    stores.run(lambda store: store.set_device_health("nobody", health, AT))
    with stores.read() as store:
        assert store.device_health("kiosk-1") == health
        assert store.device_health("board-1") is None
        assert store.device_health("nobody") is None
        devices = store.devices()
    assert [(d["name"], d["kind"]) for d in devices] == [("board-1", "board"), ("kiosk-1", "kiosk")]
    assert devices[1]["health"] == health and devices[1]["health_at"] == AT


def test_attachment_store_keeps_personal_data_until_its_day_is_closed(
    stores: StoreFactory,
) -> None:
    def write(store: QueueStore) -> Ticket:
        ticket = issue(store)
        store.attach(ticket, "request", {"form": "juminhyo", "fields": {"name": "山田"}}, AT)
        store.attach(ticket, "card", {"name": "山田"}, AT + timedelta(minutes=1))
        return ticket

    ticket = stores.run(write)
    with stores.read() as store:
        kept = store.attachments(ticket)
    assert [(a["kind"], a["created_at"]) for a in kept] == [
        ("request", AT),
        ("card", AT + timedelta(minutes=1)),
    ]
    assert kept[0]["data"]["fields"] == {"name": "山田"}
    assert stores.run(lambda store: store.delete_attachments_through(DAY - timedelta(days=1))) == 0
    assert stores.run(lambda store: store.delete_attachments_through(DAY)) == 2
    with stores.read() as store:
        assert store.attachments(ticket) == []


def test_learning_facts_are_read_from_what_happened(stores: StoreFactory) -> None:
    def counter(store: QueueStore, state: str, minutes: int) -> None:
        at = AT + timedelta(minutes=minutes)
        store.set_counter_state(COUNTER.id, state, at)
        seq = store.next_seq()
        payload = {"seq": seq, "counter_id": COUNTER.id, "detail": {"state": state}}
        store.append_event(seq, "counter.changed", at, payload)

    def write(store: QueueStore) -> None:
        served = issue(store, 0)
        moved = issue(store, 1)
        missed = issue(store, 2, priority=Priority.ASSISTANCE)
        left = issue(store, 3)
        for minutes, ticket in ((3, served), (4, moved), (5, missed)):
            ticket.call(COUNTER.id, AT + timedelta(minutes=minutes))
            store.save_ticket(ticket, None)
        served.finish(AT + timedelta(minutes=13))
        moved.transfer(OTHER.id, AT + timedelta(minutes=10))
        missed.no_show(AT + timedelta(minutes=12))
        left.cancel(AT + timedelta(minutes=9))
        for ticket in (served, moved, missed, left):
            store.save_ticket(ticket, None)
        counter(store, "paused", 20)
        counter(store, "open", 50)

    stores.run(write)
    since, until = AT - timedelta(hours=1), AT + timedelta(hours=1)
    with stores.read() as store:
        facts = store.facts(since, until, OFFICE.zone)
        changed = store.counter_state_times()
        assert store.facts(until, until + timedelta(hours=1), OFFICE.zone).services == ()
    assert [(s.category_id, s.minutes, s.counter_id) for s in facts.services] == [
        (CATEGORY.id, 6.0, COUNTER.id),
        (CATEGORY.id, 10.0, COUNTER.id),
    ]
    assert sorted((a.category_id, a.priority_rank, a.at) for a in facts.arrivals) == [
        (CATEGORY.id, 0, AT + timedelta(minutes=2)),
        (CATEGORY.id, 2, AT),
        (CATEGORY.id, 2, AT + timedelta(minutes=1)),
        (CATEGORY.id, 2, AT + timedelta(minutes=3)),
        (OTHER.id, 2, AT + timedelta(minutes=10)),
    ]
    assert sorted(w.minutes for w in facts.waits) == [3.0, 3.0, 3.0]
    assert [(a.category_id, a.minutes) for a in facts.abandonments] == [(CATEGORY.id, 6.0)]
    assert (facts.calls, facts.no_shows) == ({CATEGORY.id: 3}, {CATEGORY.id: 1})
    assert facts.no_show_minutes == 7.0
    assert [(p.counter_id, p.minutes) for p in facts.pauses] == [(COUNTER.id, 30.0)]
    assert facts.days == 1
    assert changed[COUNTER.id] == AT + timedelta(minutes=50)


def _reservation(reference: str, hour: int, day: date = DAY, email: str | None = None) -> Any:
    from queue_server.domain.reservations import Reservation, ReservationState

    start = datetime.combine(day, time(hour), tzinfo=OFFICE.zone)
    return Reservation(
        reference=reference,
        code_hash=f"hash-{reference}",
        category_id="mynumber",
        business_date=day,
        slot_start=start,
        slot_minutes=30,
        language="ja",
        state=ReservationState.BOOKED,
        created_at=AT,
        updated_at=AT,
        reminder_channel="email" if email else None,
        reminder_address=email,
    )


def test_reservation_store_counts_holding_bookings_and_forgets_contacts(
    stores: StoreFactory,
) -> None:
    tomorrow = DAY + timedelta(days=1)

    def write(store: QueueStore) -> None:
        first = _reservation("r1", 10, email="a@example.jp")
        store.add_reservation(first)
        assert first.id is not None
        store.add_reservation(_reservation("r2", 10, email="c@example.jp"))
        cancelled = _reservation("r3", 10)
        store.add_reservation(cancelled)
        cancelled.cancel(AT)
        store.save_reservation(cancelled)
        store.add_reservation(_reservation("r4", 11, tomorrow, email="b@example.jp"))
        ticket = issue(store)
        assert ticket.id is not None
        first.check_in(ticket.id, AT)
        store.save_reservation(first)

    stores.run(write)
    ten = datetime.combine(DAY, time(10), tzinfo=OFFICE.zone)
    with stores.read() as store:
        assert store.booked_counts("mynumber", DAY) == {ten: 2}
        assert store.booked_counts("other", DAY) == {}
        found = store.reservation_by_reference("r1")
        assert found is not None and found.state == "checked_in"
        assert found.slot_start == ten and found.reminder_channel == "email"
        assert found.reminder_address is None  # checked in: no reminder is due any more
        waiting = store.reservation_by_reference("r2")
        assert waiting is not None and waiting.reminder_address == "c@example.jp"
        assert store.reservation_by_code("hash-r2") is not None
        assert store.reservation_by_code("hash-none") is None
        assert found.ticket_id is not None
        linked = store.reservation_for_ticket(found.ticket_id)
        assert linked is not None and linked.reference == "r1"
        assert [r.reference for r in store.reservations_between(DAY, tomorrow)] == [
            "r1",
            "r2",
            "r3",
            "r4",
        ]
        assert [r.reference for r in store.reservations_between(tomorrow, tomorrow)] == ["r4"]
    assert stores.run(lambda store: store.forget_reservation_contacts(DAY)) == 1
    with stores.read() as store:
        kept = {r.reference: r.reminder_address for r in store.reservations_between(DAY, tomorrow)}
        assert kept == {"r1": None, "r2": None, "r3": None, "r4": "b@example.jp"}


def test_notice_store_keeps_subscriptions_until_their_day_is_closed(
    stores: StoreFactory,
) -> None:
    from queue_server.domain.notices import Subscription

    def write(store: QueueStore) -> None:
        ticket = issue(store)
        assert ticket.id is not None
        for token, day in (("t1", DAY), ("t2", DAY), ("t3", DAY + timedelta(days=1))):
            sub = Subscription(token, ticket.id, day, "email", "a@example.jp", 3, "ja", AT)
            store.add_subscription(sub)
            assert sub.id is not None
        first = store.subscriptions()[0]
        first.sent.append("ahead")
        first.attempts = 2
        store.save_subscription(first)

    stores.run(write)
    with stores.read() as store:
        found = store.subscriptions()
        assert [s.token for s in found] == ["t1", "t2", "t3"]
        assert (found[0].sent, found[0].attempts, found[1].sent) == (["ahead"], 2, [])
        assert found[0].ahead == 3 and found[0].business_date == DAY
    assert stores.run(lambda store: store.delete_subscription("t2")) is True
    assert stores.run(lambda store: store.delete_subscription("t2")) is False
    assert stores.run(lambda store: store.delete_subscriptions_through(DAY)) == 1
    with stores.read() as store:
        assert [s.token for s in store.subscriptions()] == ["t3"]
