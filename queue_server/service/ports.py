"""What the service layer needs from the outside world, as protocols."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from queue_server.domain.facts import Facts
from queue_server.domain.notices import Subscription
from queue_server.domain.office import Office, PrinterConfig
from queue_server.domain.reservations import Reservation
from queue_server.domain.ticket import Ticket

T = TypeVar("T")

#: Turns the stored office configuration into the domain `Office` (validating it).
OfficeParser = Callable[[dict[str, Any]], Office]


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock tests and simulations move by hand."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._now = moment

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


@dataclass(frozen=True)
class OfficeRecord:
    id: str
    seq: int
    closed_through: date | None
    updated_at: datetime


@dataclass(frozen=True)
class RecentCall:
    display_number: str
    category_id: str
    counter_id: str
    at: datetime
    recall: bool


@dataclass(frozen=True)
class WaitingTicket:
    """A waiting ticket as the queue's state needs it (no personal data)."""

    id: int
    public_id: str
    display_number: str
    category_id: str
    priority_rank: int
    issued_at: datetime
    recall_count: int  # a no-show that came back keeps its count
    queued_at: datetime  # when it entered this queue (issue, transfer, return)


class OfficeStore(Protocol):
    """The office's row (seq, day closed through, configuration) and its event log."""

    def office(self) -> OfficeRecord: ...
    def office_config(self) -> dict[str, Any]: ...
    def next_seq(self) -> int: ...
    def last_event_at(self) -> datetime | None: ...
    def append_event(
        self, seq: int, kind: str, at: datetime, payload: Mapping[str, Any]
    ) -> None: ...
    def set_closed_through(self, day: date) -> None: ...
    def prune_events(
        self, before: datetime, kept_types: tuple[str, ...], kept_since: datetime
    ) -> int:
        """Delete events older than `before`, except those of `kept_types` since `kept_since`."""
        ...


class NumberStore(Protocol):
    """Ticket numbers per category and business date: gap-free under the office lock."""

    def take_number(self, category_id: str, day: date, first: int) -> int: ...
    def last_numbers(self, day: date) -> dict[str, int]: ...


class TicketStore(Protocol):
    """Tickets, their transitions and the waiting queue."""

    def add_ticket(self, ticket: Ticket, device: str | None) -> None: ...
    def issued_by(self, ticket_id: int) -> str | None:
        """Who issued the ticket (`device:NAME` or `staff:NAME`)."""
        ...

    def save_ticket(self, ticket: Ticket, actor: str | None) -> None: ...
    def ticket(self, ticket_id: int) -> Ticket | None: ...
    def ticket_by_public_id(self, public_id: str) -> Ticket | None: ...
    def head_of_queue(self, category_id: str, day: date) -> Ticket | None: ...
    def tickets_at_counter(self, counter_id: str, day: date) -> list[Ticket]: ...
    def occupied_counters(self, day: date) -> list[Ticket]: ...
    def open_tickets_through(self, day: date) -> list[Ticket]: ...
    def waiting(self, day: date, category_id: str | None = None) -> list[Ticket]: ...
    def waiting_queue(self, day: date) -> list[WaitingTicket]: ...
    def waiting_ahead(self, category_id: str, day: date, rank: int) -> int: ...
    def rank(self, ticket: Ticket) -> int: ...
    def recent_calls(self, day: date, limit: int) -> list[RecentCall]: ...
    def set_print_outcome(
        self, ticket: Ticket, outcome: str, reason: str | None, at: datetime
    ) -> None: ...


class CounterStore(Protocol):
    """Whether each counter is open, paused or closed."""

    def counter_states(self) -> dict[str, str]: ...
    def set_counter_state(self, counter_id: str, state: str, at: datetime) -> None: ...


class CodeStore(Protocol):
    """Scanned codes used once, pre-applications waiting for their visit, the audit log."""

    def code_redeemed(self, fingerprint: str) -> bool: ...
    def redeem_code(self, fingerprint: str, ticket: Ticket, at: datetime) -> None: ...
    def add_preapplication(self, record: Mapping[str, Any]) -> None: ...
    def take_preapplication(self, reference: str) -> dict[str, Any] | None: ...
    def delete_expired_preapplications(self, now: datetime) -> int: ...
    def audit(
        self, actor: str, action: str, ticket_id: int | None, at: datetime, detail: str = ""
    ) -> None: ...


class DeviceStore(Protocol):
    """Kiosks and boards and their last health report."""

    def device_health(self, name: str) -> dict[str, Any] | None: ...
    def set_device_health(self, name: str, health: Mapping[str, Any], at: datetime) -> None: ...
    def devices(self) -> list[dict[str, Any]]: ...


class AttachmentStore(Protocol):
    """Personal data kept with a ticket for the clerk, until day close."""

    def attach(self, ticket: Ticket, kind: str, data: Mapping[str, Any], at: datetime) -> None: ...
    def attachments(self, ticket: Ticket) -> list[dict[str, Any]]: ...
    def delete_attachments_through(self, day: date) -> int: ...


class ReservationStore(Protocol):
    """Visit reservations (来庁予約); written under the office lock, so counting a slot's
    bookings and adding one cannot race."""

    def add_reservation(self, reservation: Reservation) -> None:
        """Store a new booking and set its `id`."""
        ...

    def save_reservation(self, reservation: Reservation) -> None: ...
    def reservation_by_reference(self, reference: str) -> Reservation | None: ...
    def reservation_by_code(self, code_hash: str) -> Reservation | None: ...
    def reservation_for_ticket(self, ticket_id: int) -> Reservation | None: ...
    def booked_counts(self, category_id: str, day: date) -> dict[datetime, int]:
        """Bookings holding a place (booked or checked in) per slot start."""
        ...

    def reservations_between(
        self, first: date, last: date, category_id: str | None = None
    ) -> list[Reservation]:
        """Every reservation of the local dates [first, last], by slot time."""
        ...

    def forget_reservation_contacts(self, through: date) -> int:
        """Delete the reminder addresses of reservations on or before `through`."""
        ...


class NoticeStore(Protocol):
    """Opt-in notice subscriptions of today's tickets; deleted at day close."""

    def add_subscription(self, subscription: Subscription) -> None: ...
    def save_subscription(self, subscription: Subscription) -> None: ...
    def subscriptions(self) -> list[Subscription]: ...
    def delete_subscription(self, token: str) -> bool: ...
    def delete_subscriptions_through(self, day: date) -> int: ...


class LearningFacts(Protocol):
    """What the wait estimator learns from (queue_server.domain.learning)."""

    def facts(self, since: datetime, until: datetime, zone: ZoneInfo) -> Facts:
        """Services, queue entries, waits, abandonments, calls, no-shows and counter pauses
        recorded in the span, folded by `domain.recorded.facts_from_records`."""
        ...

    def counter_state_times(self) -> dict[str, datetime]: ...


class QueueStore(
    OfficeStore,
    NumberStore,
    TicketStore,
    CounterStore,
    CodeStore,
    DeviceStore,
    AttachmentStore,
    ReservationStore,
    NoticeStore,
    LearningFacts,
    Protocol,
):
    """One database transaction on one office's queue: every port above, in one transaction."""


class SlipPrinter(Protocol):
    """Prints a ticket's slip on one of the office's printers (the server's own printing)."""

    def print_ticket(
        self, printer: PrinterConfig, office: Office, ticket: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Print now or fail; returns the outcome (`outcome`, `reason`, `code`, status)."""
        ...


class Mailer(Protocol):
    """Sends one message (an e-mail, a LINE message, a push); raises when it is not taken.
    `unsubscribe_url` is the one-tap link that stops such messages (e-mail headers carry it)."""

    def send(
        self, to: str, subject: str, body: str, unsubscribe_url: str | None = None
    ) -> None: ...


class RequestRenderer(Protocol):
    """Turns a completed request into the A4 sheet the visitor checks and signs."""

    def render(self, office: Office, request: Mapping[str, Any], number: str) -> bytes:
        """PDF bytes."""
        ...


class StoreFactory(Protocol):
    def submit(self, work: Callable[[QueueStore], T]) -> Future[T]:
        """Run `work` in a transaction holding the office's write lock; the result once
        committed (events publish after the commit). A job that raises changes nothing."""
        ...

    def run(self, work: Callable[[QueueStore], T]) -> T:
        """`submit` and wait for the result."""
        ...

    def read(self) -> AbstractContextManager[QueueStore]:
        """A read-only transaction on one consistent snapshot."""
        ...
