"""Day close: when a business day is over, and what closing it does.

At the office's day-close time (or on the first use of a later business date), every ticket
still open is closed out, the personal data kept for clerks is deleted, expired
pre-applications go, reservations never checked in become no-shows and reminder e-mail
addresses of the closed days are deleted.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol

from queue_server.domain.office import Office
from queue_server.domain.reservations import ReservationState
from queue_server.service.ports import (
    AttachmentStore,
    CodeStore,
    NoticeStore,
    OfficeRecord,
    OfficeStore,
    ReservationStore,
    TicketStore,
)

#: Events the wait estimator learns pauses and calls from (`sql_history.read_facts`): kept for
#: `EVENT_HISTORY`, well beyond the learning window (28 days). Every other event (issues,
#: transitions, device health, print outcomes) serves only realtime catch-up, which needs the
#: current day: it goes at the day close a day later. Statistics read tickets and transitions,
#: not events.
LEARNT_EVENTS = ("counter.changed", "ticket.called")
EVENT_HISTORY = timedelta(days=90)


class ClosingStore(
    OfficeStore, TicketStore, AttachmentStore, CodeStore, ReservationStore, NoticeStore, Protocol
):
    """What closing a day touches."""


def close_due(office: Office, record: OfficeRecord, now: datetime) -> date | None:
    """The last business date to close now, or None when every finished day is closed."""
    local = office.local(now)
    today = local.date()
    closed_today = office.day_close is not None and local.time() >= office.day_close
    target = today if closed_today else today - timedelta(days=1)
    if record.closed_through is None or record.closed_through < target:
        return target
    return None


def close_out(store: ClosingStore, now: datetime, target: date) -> None:
    """Close every day through `target`: open tickets end, clerks' personal data is deleted."""
    for ticket in store.open_tickets_through(target):
        ticket.close_out(now)
        store.save_ticket(ticket, "day-close")
    store.delete_attachments_through(target)
    store.delete_expired_preapplications(now)
    # Bookings never checked in are no-shows; reminder addresses go with the day.
    closed = store.office().closed_through
    first = closed + timedelta(days=1) if closed is not None else date.min
    for reservation in store.reservations_between(first, target):
        if reservation.state == ReservationState.BOOKED:
            reservation.mark_no_show(now)
            store.save_reservation(reservation)
    store.forget_reservation_contacts(target)
    store.delete_subscriptions_through(target)
    store.prune_events(now - timedelta(days=1), LEARNT_EVENTS, now - EVENT_HISTORY)
    store.set_closed_through(target)
