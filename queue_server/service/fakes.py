"""In-memory fakes of the store ports, for tests and for running the service without a database.

Each port has its fake (`FakeTicketStore` for `TicketStore`, ...); they share one `FakeTables`,
so `FakeQueueStore` (all of them) sees one consistent office. `FakeStoreFactory` runs write jobs
at once and undoes a job that raises, as the office's writer does with its savepoints.
`tests/integration/test_store_contracts.py` holds every fake to the same contract as the SQL store.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from queue_server.domain.facts import Facts
from queue_server.domain.notices import Subscription
from queue_server.domain.recorded import RecordedEvent, RecordedTransition, facts_from_records
from queue_server.domain.reservations import HOLDING_STATES, Reservation
from queue_server.domain.ticket import (
    AT_COUNTER_STATES,
    OPEN_STATES,
    Action,
    Ticket,
    TicketState,
    Transition,
)
from queue_server.service.ports import (
    AttachmentStore,
    CodeStore,
    CounterStore,
    DeviceStore,
    LearningFacts,
    NoticeStore,
    NumberStore,
    OfficeRecord,
    OfficeStore,
    QueueStore,
    RecentCall,
    ReservationStore,
    StoreFactory,
    TicketStore,
    WaitingTicket,
)

T = TypeVar("T")


@dataclass
class FakeTables:
    """One office's data, as the database would hold it."""

    office: OfficeRecord
    config: dict[str, Any]
    events: list[tuple[int, str, datetime, dict[str, Any]]] = field(default_factory=list)
    numbers: dict[tuple[str, date], int] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    origins: dict[int, str] = field(default_factory=dict)  # ticket id -> category at issue
    issuers: dict[int, str | None] = field(default_factory=dict)  # ticket id -> who issued it
    transitions: list[tuple[int, Transition, str | None]] = field(default_factory=list)
    counters: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    redeemed: dict[str, tuple[int | None, datetime]] = field(default_factory=dict)
    preapplications: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit_log: list[tuple[str, str, int | None, datetime]] = field(default_factory=list)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reservations: dict[int, Reservation] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)

    @classmethod
    def for_office(
        cls, office_id: str, config: Mapping[str, Any], at: datetime, closed_through: date
    ) -> FakeTables:
        """A freshly loaded office: seq 0, nothing to close before `closed_through`."""
        return cls(OfficeRecord(office_id, 0, closed_through, at), dict(config))

    def add_device(self, name: str, kind: str) -> None:
        """Register a kiosk or board (the accounts' job in the real database)."""
        seen = {"last_seen_at": None, "health": None, "health_at": None, "revoked_at": None}
        self.devices[name] = {"name": name, "kind": kind, **seen}


class _Fake:
    def __init__(self, tables: FakeTables) -> None:
        self.tables = tables


class FakeOfficeStore(_Fake):
    def office(self) -> OfficeRecord:
        return self.tables.office

    def office_config(self) -> dict[str, Any]:
        return dict(self.tables.config)

    def next_seq(self) -> int:
        self.tables.office = replace(self.tables.office, seq=self.tables.office.seq + 1)
        return self.tables.office.seq

    def last_event_at(self) -> datetime | None:
        seq = self.tables.office.seq
        return next((at for s, _, at, _ in self.tables.events if s == seq), None)

    def append_event(self, seq: int, kind: str, at: datetime, payload: Mapping[str, Any]) -> None:
        self.tables.events.append((seq, kind, at, dict(payload)))

    def set_closed_through(self, day: date) -> None:
        self.tables.office = replace(self.tables.office, closed_through=day)

    def prune_events(
        self, before: datetime, kept_types: tuple[str, ...], kept_since: datetime
    ) -> int:
        kept = [
            e
            for e in self.tables.events
            if e[2] >= before or (e[1] in kept_types and e[2] >= kept_since)
        ]
        pruned = len(self.tables.events) - len(kept)
        self.tables.events[:] = kept
        return pruned


class FakeNumberStore(_Fake):
    def take_number(self, category_id: str, day: date, first: int) -> int:
        last = self.tables.numbers.get((category_id, day))
        number = first if last is None else last + 1
        self.tables.numbers[(category_id, day)] = number
        return number

    def last_numbers(self, day: date) -> dict[str, int]:
        return {c: n for (c, d), n in self.tables.numbers.items() if d == day}


def _queue_order(ticket: Ticket) -> tuple[int, datetime, int]:
    return (ticket.priority.rank, ticket.queued_at or ticket.issued_at, ticket.number)


def _copy(ticket: Ticket) -> Ticket:
    return replace(ticket, transitions=[])


class FakeTicketStore(_Fake):
    def add_ticket(self, ticket: Ticket, device: str | None) -> None:
        ticket.id = max(self.tables.tickets, default=0) + 1
        if ticket.queued_at is None:
            ticket.queued_at = ticket.issued_at
        self.tables.origins[ticket.id] = ticket.category_id
        self.tables.issuers[ticket.id] = device
        self.tables.tickets[ticket.id] = _copy(ticket)
        self._write_transitions(ticket, device)

    def issued_by(self, ticket_id: int) -> str | None:
        return self.tables.issuers.get(ticket_id)

    def save_ticket(self, ticket: Ticket, actor: str | None) -> None:
        assert ticket.id is not None
        stored = self.tables.tickets[ticket.id]
        # The slip's outcome has its own write (`set_print_outcome`), as in the database.
        outcome, reason = stored.print_outcome, stored.print_reason
        self.tables.tickets[ticket.id] = replace(
            _copy(ticket), print_outcome=outcome, print_reason=reason
        )
        self._write_transitions(ticket, actor)

    def _write_transitions(self, ticket: Ticket, actor: str | None) -> None:
        assert ticket.id is not None
        self.tables.transitions.extend((ticket.id, tr, actor) for tr in ticket.transitions)
        ticket.transitions.clear()

    def _select(self, keep: Callable[[Ticket], bool], order: Any = _queue_order) -> list[Ticket]:
        return [_copy(t) for t in sorted(filter(keep, self.tables.tickets.values()), key=order)]

    def ticket(self, ticket_id: int) -> Ticket | None:
        found = self.tables.tickets.get(ticket_id)
        return None if found is None else _copy(found)

    def ticket_by_public_id(self, public_id: str) -> Ticket | None:
        found = self._select(lambda t: t.public_id == public_id)
        return found[0] if found else None

    def head_of_queue(self, category_id: str, day: date) -> Ticket | None:
        found = self.waiting(day, category_id)
        return found[0] if found else None

    def tickets_at_counter(self, counter_id: str, day: date) -> list[Ticket]:
        return self._select(
            lambda t: (
                t.business_date == day
                and t.counter_id == counter_id
                and t.state in AT_COUNTER_STATES
            )
        )

    def occupied_counters(self, day: date) -> list[Ticket]:
        return self._select(
            lambda t: t.business_date == day and t.state in AT_COUNTER_STATES,
            order=lambda t: t.called_at,
        )

    def open_tickets_through(self, day: date) -> list[Ticket]:
        return self._select(
            lambda t: t.business_date <= day and t.state in OPEN_STATES, order=lambda t: t.id
        )

    def waiting(self, day: date, category_id: str | None = None) -> list[Ticket]:
        return self._select(
            lambda t: (
                t.business_date == day
                and t.state is TicketState.ISSUED
                and category_id in (None, t.category_id)
            )
        )

    def waiting_queue(self, day: date) -> list[WaitingTicket]:
        return [
            WaitingTicket(
                t.id or 0, t.public_id, t.display_number, t.category_id, t.priority.rank,
                t.issued_at, t.recall_count, t.queued_at or t.issued_at,
            )
            for t in self.waiting(day)
        ]  # fmt: skip

    def waiting_ahead(self, category_id: str, day: date, rank: int) -> int:
        return sum(1 for t in self.waiting(day, category_id) if t.priority.rank <= rank)

    def rank(self, ticket: Ticket) -> int:
        place = _queue_order(ticket)
        waiting = self.waiting(ticket.business_date, ticket.category_id)
        return sum(1 for t in waiting if _queue_order(t) < place)

    def recent_calls(self, day: date, limit: int) -> list[RecentCall]:
        calls = [
            RecentCall(
                self.tables.tickets[ticket_id].display_number,
                tr.category_id,
                tr.counter_id or "",
                tr.at,
                tr.action is Action.RECALL,
            )
            for ticket_id, tr, _ in reversed(self.tables.transitions)
            if tr.action in (Action.CALL, Action.RECALL)
            and self.tables.tickets[ticket_id].business_date == day
        ]
        return calls[:limit]

    def set_print_outcome(
        self, ticket: Ticket, outcome: str, reason: str | None, at: datetime
    ) -> None:
        assert ticket.id is not None
        stored = self.tables.tickets[ticket.id]
        self.tables.tickets[ticket.id] = replace(stored, print_outcome=outcome, print_reason=reason)


class FakeCounterStore(_Fake):
    def counter_states(self) -> dict[str, str]:
        return {c: state for c, (state, _) in self.tables.counters.items()}

    def set_counter_state(self, counter_id: str, state: str, at: datetime) -> None:
        self.tables.counters[counter_id] = (state, at)


class FakeCodeStore(_Fake):
    def code_redeemed(self, fingerprint: str) -> bool:
        return fingerprint in self.tables.redeemed

    def redeem_code(self, fingerprint: str, ticket: Ticket, at: datetime) -> None:
        self.tables.redeemed[fingerprint] = (ticket.id, at)

    def add_preapplication(self, record: Mapping[str, Any]) -> None:
        stored = {"office_id": self.tables.office.id, **record}
        self.tables.preapplications[str(record["reference"])] = stored

    def take_preapplication(self, reference: str) -> dict[str, Any] | None:
        return self.tables.preapplications.pop(reference, None)

    def delete_expired_preapplications(self, now: datetime) -> int:
        expired = [r for r, p in self.tables.preapplications.items() if p["expires_at"] <= now]
        for reference in expired:
            del self.tables.preapplications[reference]
        return len(expired)

    def audit(
        self, actor: str, action: str, ticket_id: int | None, at: datetime, detail: str = ""
    ) -> None:
        self.tables.audit_log.append((actor, action, ticket_id, at))


class FakeDeviceStore(_Fake):
    def device_health(self, name: str) -> dict[str, Any] | None:
        found = self.tables.devices.get(name)
        return None if found is None or found["health"] is None else dict(found["health"])

    def set_device_health(self, name: str, health: Mapping[str, Any], at: datetime) -> None:
        found = self.tables.devices.get(name)
        if found is not None:  # an unknown device changes nothing, as an UPDATE of no row
            found.update(health=dict(health), health_at=at, last_seen_at=at)

    def devices(self) -> list[dict[str, Any]]:
        return [dict(self.tables.devices[name]) for name in sorted(self.tables.devices)]


class FakeAttachmentStore(_Fake):
    def attach(self, ticket: Ticket, kind: str, data: Mapping[str, Any], at: datetime) -> None:
        self.tables.attachments.append(
            {
                "ticket_id": ticket.id,
                "business_date": ticket.business_date,
                "kind": kind,
                "data": copy.deepcopy(dict(data)),
                "created_at": at,
            }
        )

    def attachments(self, ticket: Ticket) -> list[dict[str, Any]]:
        return [
            {"kind": a["kind"], "data": copy.deepcopy(a["data"]), "created_at": a["created_at"]}
            for a in self.tables.attachments
            if a["ticket_id"] == ticket.id
        ]

    def delete_attachments_through(self, day: date) -> int:
        kept = [a for a in self.tables.attachments if a["business_date"] > day]
        deleted = len(self.tables.attachments) - len(kept)
        self.tables.attachments = kept
        return deleted


class FakeReservationStore(_Fake):
    def add_reservation(self, reservation: Reservation) -> None:
        reservation.id = max(self.tables.reservations, default=0) + 1
        self.tables.reservations[reservation.id] = replace(reservation)

    def save_reservation(self, reservation: Reservation) -> None:
        assert reservation.id is not None
        stored = self.tables.reservations[reservation.id]
        self.tables.reservations[reservation.id] = replace(
            reservation, reference=stored.reference, code_hash=stored.code_hash
        )

    def _find(self, keep: Callable[[Reservation], bool]) -> Reservation | None:
        found = next((r for r in self.tables.reservations.values() if keep(r)), None)
        return replace(found) if found is not None else None

    def reservation_by_reference(self, reference: str) -> Reservation | None:
        return self._find(lambda r: r.reference == reference)

    def reservation_by_code(self, code_hash: str) -> Reservation | None:
        return self._find(lambda r: r.code_hash == code_hash)

    def reservation_for_ticket(self, ticket_id: int) -> Reservation | None:
        return self._find(lambda r: r.ticket_id == ticket_id)

    def booked_counts(self, category_id: str, day: date) -> dict[datetime, int]:
        counts: dict[datetime, int] = {}
        for r in self.tables.reservations.values():
            holds = r.state in HOLDING_STATES
            if holds and r.category_id == category_id and r.business_date == day:
                counts[r.slot_start] = counts.get(r.slot_start, 0) + 1
        return counts

    def reservations_between(
        self, first: date, last: date, category_id: str | None = None
    ) -> list[Reservation]:
        found = [
            replace(r)
            for r in self.tables.reservations.values()
            if first <= r.business_date <= last and category_id in (None, r.category_id)
        ]
        return sorted(found, key=lambda r: (r.slot_start, r.id or 0))

    def forget_reservation_contacts(self, through: date) -> int:
        forgotten = 0
        for r in self.tables.reservations.values():
            if r.business_date <= through and r.email is not None:
                r.email = None
                forgotten += 1
        return forgotten


class FakeNoticeStore(_Fake):
    def add_subscription(self, subscription: Subscription) -> None:
        subscription.id = max(self.tables.subscriptions, default=0) + 1
        self.tables.subscriptions[subscription.id] = replace(
            subscription, sent=list(subscription.sent)
        )

    def save_subscription(self, subscription: Subscription) -> None:
        assert subscription.id is not None
        stored = self.tables.subscriptions[subscription.id]
        stored.sent = list(subscription.sent)
        stored.attempts = subscription.attempts

    def subscriptions(self) -> list[Subscription]:
        return [replace(s, sent=list(s.sent)) for _, s in sorted(self.tables.subscriptions.items())]

    def delete_subscription(self, token: str) -> bool:
        found = [i for i, s in self.tables.subscriptions.items() if s.token == token]
        for i in found:
            del self.tables.subscriptions[i]
        return bool(found)

    def delete_subscriptions_through(self, day: date) -> int:
        old = [i for i, s in self.tables.subscriptions.items() if s.business_date <= day]
        for i in old:
            del self.tables.subscriptions[i]
        return len(old)


class FakeLearningFacts(_Fake):
    def facts(self, since: datetime, until: datetime, zone: ZoneInfo) -> Facts:
        moved = {i for i, tr, _ in self.tables.transitions if since <= tr.at < until}
        rows = sorted(
            (
                (i, tr.at, n, tr)
                for n, (i, tr, _) in enumerate(self.tables.transitions)
                if i in moved and tr.at < until
            ),
            key=lambda row: row[:3],
        )
        transitions = [
            RecordedTransition(
                i,
                tr.action.value,
                tr.from_state.value if tr.from_state else None,
                tr.at,
                tr.category_id,
                tr.from_category_id,
                tr.counter_id,
                tr.service_minutes,
                self.tables.tickets[i].priority.rank,
            )
            for i, _, _, tr in rows
        ]
        events = [
            RecordedEvent(kind, at, payload)
            for _, kind, at, payload in self.tables.events
            if since <= at < until and kind in ("counter.changed", "ticket.called")
        ]
        return facts_from_records(transitions, events, since, zone)

    def counter_state_times(self) -> dict[str, datetime]:
        return {c: at for c, (_, at) in self.tables.counters.items()}


class FakeQueueStore(
    FakeOfficeStore,
    FakeNumberStore,
    FakeTicketStore,
    FakeCounterStore,
    FakeCodeStore,
    FakeDeviceStore,
    FakeAttachmentStore,
    FakeReservationStore,
    FakeNoticeStore,
    FakeLearningFacts,
):
    """Every port on one office's tables (`QueueStore`)."""


class FakeStoreFactory:
    """Runs write jobs at once, one at a time; a job that raises leaves the tables unchanged."""

    def __init__(self, tables: FakeTables) -> None:
        self.tables = tables

    def submit(self, work: Callable[[QueueStore], T]) -> Future[T]:
        result: Future[T] = Future()
        before = copy.deepcopy(self.tables)
        try:
            result.set_result(work(FakeQueueStore(self.tables)))
        except Exception as exc:
            self.tables.__dict__.update(before.__dict__)
            result.set_exception(exc)
        return result

    def run(self, work: Callable[[QueueStore], T]) -> T:
        return self.submit(work).result()

    @contextmanager
    def read(self) -> Iterator[QueueStore]:
        yield FakeQueueStore(self.tables)

    def current_seq(self) -> int:
        return self.tables.office.seq


if TYPE_CHECKING:  # mypy holds each fake to its port (never run)
    _tables = FakeTables.__new__(FakeTables)
    _office: OfficeStore = FakeOfficeStore(_tables)
    _numbers: NumberStore = FakeNumberStore(_tables)
    _tickets: TicketStore = FakeTicketStore(_tables)
    _counters: CounterStore = FakeCounterStore(_tables)
    _codes: CodeStore = FakeCodeStore(_tables)
    _devices: DeviceStore = FakeDeviceStore(_tables)
    _attachments: AttachmentStore = FakeAttachmentStore(_tables)
    _reservations: ReservationStore = FakeReservationStore(_tables)
    _notices: NoticeStore = FakeNoticeStore(_tables)
    _facts: LearningFacts = FakeLearningFacts(_tables)
    _store: QueueStore = FakeQueueStore(_tables)
    _factory: StoreFactory = FakeStoreFactory(_tables)
