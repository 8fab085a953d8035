"""A ticket as each audience sees it: one `domain.ticket.Ticket`, one serializer per audience.

- staff (clerks' console and API) and the issuing kiosk: `staff_ticket` -> `TicketView`,
  everything but personal data (internal id, figures, slip outcome, status URL, seq). The kiosk
  that issued a ticket gets this view too: it needs the id to report the print outcome.
- public (the slip's QR page, the relay): `public_ticket`, no internal or public id, no language
  or priority.
- events (the realtime log): `event_ticket`, what changed, no figures (the next status has them).
- the board and the status, a ticket at a counter: `called_ticket`.
- the board's recent calls: `recent_call`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.domain.office import Office
from queue_server.domain.ticket import Ticket, TicketState
from queue_server.service.ports import RecentCall, WaitingTicket

#: Minutes of a figure: (estimate, low, high) of the 80% interval, rounded once, on the server.
Figure = tuple[int | None, int | None, int | None]


@dataclass(frozen=True)
class TicketView:
    """A ticket as staff and the issuing kiosk see it (no personal data)."""

    id: int
    public_id: str
    number: str
    category_id: str
    priority: str
    language: str
    state: str
    business_date: date
    issued_at: datetime
    called_at: datetime | None
    counter_id: str | None
    counter_number: int | None
    recall_count: int
    ahead: int
    estimated_wait_minutes: int | None
    estimate_low_minutes: int | None
    estimate_high_minutes: int | None
    status_url: str
    print_outcome: str | None = None
    print_reason: str | None = None
    seq: int = 0  # the state the figures come from

    def as_json(self, zone: ZoneInfo) -> dict[str, Any]:
        """JSON-ready, times in the office's zone. Every issue answer is one of these: flat,
        so built directly rather than by the generic (recursive, copying) `jsonable`."""
        out = dict(self.__dict__)
        out["business_date"] = self.business_date.isoformat()
        out["issued_at"] = self.issued_at.astimezone(zone).isoformat(timespec="seconds")
        if self.called_at is not None:
            out["called_at"] = self.called_at.astimezone(zone).isoformat(timespec="seconds")
        return out


def counter_number(office: Office, counter_id: str | None) -> int | None:
    """The number shown on the board for a counter, if any."""
    return office.counter(counter_id).number if counter_id else None


def staff_ticket(
    ticket: Ticket, office: Office, ahead: int, figure: Figure, seq: int, status_url: str
) -> TicketView:
    """Staff's and the issuing kiosk's view of a ticket, with the figures of state `seq`."""
    assert ticket.id is not None
    minutes, low, high = figure
    return TicketView(
        id=ticket.id,
        public_id=ticket.public_id,
        number=ticket.display_number,
        category_id=ticket.category_id,
        priority=ticket.priority.value,
        language=ticket.language,
        state=ticket.state.value,
        business_date=ticket.business_date,
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        counter_id=ticket.counter_id,
        counter_number=counter_number(office, ticket.counter_id),
        recall_count=ticket.recall_count,
        ahead=ahead,
        estimated_wait_minutes=minutes,
        estimate_low_minutes=low,
        estimate_high_minutes=high,
        status_url=status_url,
        print_outcome=ticket.print_outcome,
        print_reason=ticket.print_reason,
        seq=seq,
    )


def _iso(moment: datetime | None, office: Office) -> str | None:
    return None if moment is None else moment.astimezone(office.zone).isoformat(timespec="seconds")


def public_ticket(
    ticket: Ticket | WaitingTicket, office: Office, ahead: int, figure: Figure, seq: int
) -> dict[str, Any]:
    """A ticket as anyone holding its slip's QR sees it: no internal id, no personal data.
    JSON-ready (asked for on every phone reload, so without the generic `jsonable`)."""
    if isinstance(ticket, WaitingTicket):
        state, called_at, counter_id = TicketState.ISSUED.value, None, None
    else:
        state, called_at, counter_id = ticket.state.value, ticket.called_at, ticket.counter_id
    minutes, low, high = figure
    return {
        "number": ticket.display_number,
        "category_id": ticket.category_id,
        "state": state,
        "issued_at": _iso(ticket.issued_at, office),
        "called_at": _iso(called_at, office),
        "counter_id": counter_id,
        "counter_number": counter_number(office, counter_id),
        "recall_count": ticket.recall_count,
        "ahead": ahead,
        "estimated_wait_minutes": minutes,
        "estimate_low_minutes": low,
        "estimate_high_minutes": high,
        "seq": seq,
    }


def event_ticket(ticket: Ticket, office: Office) -> dict[str, Any]:
    """A ticket in an event: what changed, no figures and no personal data."""
    return {
        "id": ticket.id,
        "number": ticket.display_number,
        "category_id": ticket.category_id,
        "state": ticket.state.value,
        "priority": ticket.priority.value,
        "counter_id": ticket.counter_id,
        "counter_number": counter_number(office, ticket.counter_id),
        "recall_count": ticket.recall_count,
    }


def called_ticket(ticket: Ticket, office: Office) -> dict[str, Any]:
    """A ticket at a counter, as the board and the status show it."""
    return {
        "number": ticket.display_number,
        "category_id": ticket.category_id,
        "state": ticket.state.value,
        "counter_id": ticket.counter_id,
        "counter_number": counter_number(office, ticket.counter_id),
        "called_at": ticket.called_at,
        "recall_count": ticket.recall_count,
    }


def recent_call(call: RecentCall, office: Office) -> dict[str, Any]:
    """One call or recall in the board's list of recent calls."""
    return {
        "number": call.display_number,
        "category_id": call.category_id,
        "counter_id": call.counter_id,
        "counter_number": counter_number(office, call.counter_id),
        "at": call.at,
        "recall": call.recall,
    }
