"""In-memory fakes of the store ports, for tests and for running the service without a database.

Each port has its fake (`FakeTicketStore` for `TicketStore`, ...); they share one `FakeTables`,
so `FakeQueueStore` (all of them) sees one consistent office. `FakeStoreFactory` runs write jobs
at once and undoes a job that raises, as the office's writer does with its savepoints.
`tests/integration/test_store_contracts.py` holds every fake to the same contract as the SQL store.
The tables are in `fake_tables`, the record ports' fakes in `fake_records`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from queue_server.domain.ticket import (
    AT_COUNTER_STATES,
    OPEN_STATES,
    Action,
    Ticket,
    TicketState,
)
from queue_server.service.fake_records import (
    FakeAttachmentStore,
    FakeCodeStore,
    FakeDeviceStore,
    FakeLearningFacts,
    FakeNoticeStore,
    FakeReservationStore,
)
from queue_server.service.fake_tables import FakePort, FakeTables
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


class FakeOfficeStore(FakePort):
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


class FakeNumberStore(FakePort):
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


class FakeTicketStore(FakePort):
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


class FakeCounterStore(FakePort):
    def counter_states(self) -> dict[str, str]:
        return {c: state for c, (state, _) in self.tables.counters.items()}

    def set_counter_state(self, counter_id: str, state: str, at: datetime) -> None:
        self.tables.counters[counter_id] = (state, at)


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
