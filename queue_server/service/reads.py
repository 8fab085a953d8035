"""Reads: the computed queue state, tickets as staff and residents see them, the office.

Figures (waits, people ahead) come from the computed `QueueState`; no read runs the estimator.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from queue_server.domain.errors import NotFound
from queue_server.domain.estimate import WaitEstimator
from queue_server.domain.office import Office
from queue_server.domain.ticket import AT_COUNTER_STATES, Ticket, TicketState
from queue_server.service.core import ServiceCore
from queue_server.service.ports import (
    Clock,
    OfficeParser,
    QueueStore,
    StoreFactory,
    TicketStore,
)
from queue_server.service.state import AT_COUNTER, NO_FIGURE, QueueState, StateProjector
from queue_server.service.views import Figure, TicketView, public_ticket, staff_ticket


class Reads(ServiceCore):
    """The computed state and every read of tickets and the office."""

    def __init__(
        self,
        stores: StoreFactory,
        clock: Clock,
        parse_office: OfficeParser,
        public_base_url: str,
        estimator: WaitEstimator,
        tick_seconds: float = 30.0,
    ) -> None:
        super().__init__(stores, clock, parse_office, public_base_url)
        self._projector = StateProjector(estimator, tick_seconds)
        self._state: QueueState | None = None
        self._state_lock = threading.Lock()

    def state(self) -> QueueState:
        """The current computed state (computed now only if there is none yet)."""
        state = self._state
        return state if state is not None else self.refresh_state()

    def refresh_state(self) -> QueueState:
        """Compute the state as the database stands now (called by the realtime hub, after
        changes and on each tick; never on a request path)."""

        def work(store: QueueStore, office: Office, now: datetime) -> QueueState:
            return self._projector.compute(store, office, now, self._state)

        state = self._read(work)
        with self._state_lock:
            current = self._state
            if current is not None and (state.seq, state.as_of) < (current.seq, current.as_of):
                return current
            self._state = state
            return state

    def status(self) -> Mapping[str, Any]:
        """The public snapshot: waiting counts, calls, estimates, counters. No personal data."""
        return self.state().status

    def ticket(self, ticket_id: int) -> TicketView:
        state = self.state()
        return self._read(
            lambda store, office, now: self._view(
                office, self._ticket(store, ticket_id), state, store
            )
        )

    def _view_after(self, ticket: Ticket) -> TicketView:
        """The ticket as it stands after a write committed, read without holding the lock."""
        assert ticket.id is not None
        return self.ticket(ticket.id)

    def _view(
        self,
        office: Office,
        ticket: Ticket,
        state: QueueState,
        store: TicketStore | None = None,
        ahead: int | None = None,
    ) -> TicketView:
        """Staff's and the issuing kiosk's view; figures from `state`. A waiting ticket's people
        ahead are `ahead` when known exactly, else its place in the state, else counted."""
        assert ticket.id is not None
        figure: Figure = NO_FIGURE
        if ticket.state is TicketState.ISSUED:
            if ahead is None:
                place = state.places.get(ticket.id)
                if place is not None and place[0] == ticket.category_id:
                    ahead = place[1]
                elif store is not None:
                    ahead = store.rank(ticket)
            figure = state.figure(ticket.category_id, ahead or 0)
        elif ticket.state in AT_COUNTER_STATES:
            figure = AT_COUNTER
        return staff_ticket(
            ticket, office, ahead or 0, figure, state.seq, self.status_url(ticket.public_id)
        )

    def public_ticket(self, public_id: str) -> dict[str, Any]:
        """A ticket as its slip's QR shows it (JSON-ready): from the state when it is open
        there, else read (a ticket newer than the state, or one that is over)."""
        state = self.state()
        found = state.public_ticket(public_id)
        if found is not None:
            return found

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            ticket = store.ticket_by_public_id(public_id)
            if ticket is None:
                raise NotFound("no such ticket")
            view = self._view(office, ticket, state, store)
            figure = (
                view.estimated_wait_minutes,
                view.estimate_low_minutes,
                view.estimate_high_minutes,
            )
            return public_ticket(ticket, office, view.ahead, figure, state.seq)

        return self._read(work)

    def waiting(self, category_id: str | None = None) -> list[TicketView]:
        """Today's waiting tickets in queue order (for clerks)."""
        state = self.state()

        def work(store: QueueStore, office: Office, now: datetime) -> list[TicketView]:
            if category_id is not None:
                office.category(category_id)
            day = office.business_date(now)
            return [self._view(office, t, state, store) for t in store.waiting(day, category_id)]

        return self._read(work)

    def office_info(self) -> dict[str, Any]:
        """What a kiosk or page needs to know about the office."""
        return self._read(lambda store, office, now: _office_info(office, now))


def _office_info(office: Office, now: datetime) -> dict[str, Any]:
    local = office.local(now)
    hours = office.calendar.hours_on(local.date())
    week = []
    for offset in range(7):
        day = local.date() + timedelta(days=offset)
        day_hours = office.calendar.hours_on(day)
        week.append(
            {
                "date": day,
                "hours": str(day_hours) if day_hours else None,
                "closed_reason": office.calendar.closed_reason(day),
            }
        )
    return {
        "id": office.id,
        "names": dict(office.names),
        "timezone": office.timezone,
        "languages": list(office.languages),
        "now": now,
        "business_date": local.date(),
        "open": office.is_open(now),
        "hours_today": str(hours) if hours else None,
        "week": week,
        "closed_days": [
            {"date": d, "reason": r}
            for d, r in office.calendar.upcoming_closed_days(local.date(), 60)
        ],
        "categories": [
            {
                "id": c.id,
                "names": dict(c.names),
                "prefix": c.prefix,
                "fee": c.fee,
                "daily_cap": c.daily_cap,
                "last_reception": c.last_reception.strftime("%H:%M") if c.last_reception else None,
                "waiting_area": dict(c.waiting_area),
                "forms": list(c.forms),
                "reservable": c.reservable,
                "open_now": office.reception_closed_reason(c, now) is None,
                "closed_reason": office.reception_closed_reason(c, now),
            }
            for c in office.categories
        ],
        "counters": [
            {
                "id": c.id,
                "number": c.number,
                "names": dict(c.names),
                "categories": list(c.categories),
            }
            for c in office.counters
        ],
    }
