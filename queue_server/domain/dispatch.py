"""Which waiting ticket a counter calls next.

A counter serves its categories in priority order; within one category the queue is ordered by
ticket priority, then by the time the ticket joined the queue (oldest first), then by number.

Reservations: a reservation ticket joins the queue at its slot time (`queued_at`), also when the
visitor checked in early, and its priority takes effect only then. Before its slot it is ordered
like a walk-in that arrived at the slot time, so it is called early only when nobody who came
before it waits; from its slot on it is called ahead of walk-ins by the next free counter that
serves it. Walk-ins keep the counter time reservations cannot book (capacity per slot is a share
of the serving counters' time, `domain.reservations.capacity_from_share`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from queue_server.domain.office import Counter
from queue_server.domain.ticket import Priority, Ticket


def choose_next(counter: Counter, head_of: Callable[[str], Ticket | None]) -> Ticket | None:
    """The ticket `counter` calls next, given the head of each category's queue."""
    for category_id in counter.categories:
        head = head_of(category_id)
        if head is not None:
            return head
    return None


def _joined(ticket: Ticket) -> datetime:
    return ticket.queued_at or ticket.issued_at


def reservation_waiting_for_its_slot(ticket: Ticket, now: datetime) -> bool:
    """A reservation whose slot has not begun: its priority does not count yet."""
    return ticket.priority is Priority.RESERVATION and _joined(ticket) > now


def next_in_queue(waiting: Iterable[Ticket], now: datetime) -> Ticket | None:
    """The next of one category's waiting tickets at `now` (reservations due from their slot)."""

    def order(ticket: Ticket) -> tuple[int, datetime, int]:
        rank = ticket.priority.rank
        if reservation_waiting_for_its_slot(ticket, now):
            rank = Priority.NORMAL.rank
        return (rank, _joined(ticket), ticket.number)

    return min(waiting, key=order, default=None)
