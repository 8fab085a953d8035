"""The read side: one computed state of the queue per committed change, served to everyone.

After each change (debounced by the realtime hub) and on a clock tick, `StateProjector.compute`
reads the queue once and runs the wait estimator once. The resulting `QueueState` holds the public
status (already serialised), every waiting ticket's place and figures, and the congestion lamps.
Issue answers, `/api/v1/status`, WebSocket snapshots and statuses and the ticket pages all read
it, so one seq shows the same figures everywhere and no request runs the estimator.

The estimate is made "as of" the later of the last event and the last tick (a multiple of the
tick length), not the moment of computing: the same database state and tick give the same
figures in every process and on every recompute.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from queue_server.domain.congestion import lamp_level
from queue_server.domain.estimate import Estimates, WaitEstimate, WaitEstimator
from queue_server.domain.facts import day_start_of, history_window
from queue_server.domain.learning import History, learn_history
from queue_server.domain.office import Office
from queue_server.domain.reservations import ReservationState, is_no_show
from queue_server.domain.snapshot import CounterState, build_snapshot
from queue_server.domain.ticket import Priority, Ticket
from queue_server.service.jsonable import jsonable
from queue_server.service.ports import QueueStore, ReservationStore, WaitingTicket
from queue_server.service.views import Figure, called_ticket, public_ticket, recent_call

# Enough that the board can list calls that left its main area even with every counter calling.
RECENT_CALLS = 20
NO_FIGURE: Figure = (None, None, None)
AT_COUNTER: Figure = (0, 0, 0)


def round_figure(estimate: WaitEstimate | None) -> Figure:
    """The one rounding rule every screen shows (clients display it as it is)."""
    if estimate is None:
        return NO_FIGURE
    return estimate.rounded()


@dataclass(frozen=True)
class QueueState:
    """The queue as of one seq and tick: what every reader is served."""

    seq: int
    as_of: datetime
    business_date: date
    status: Mapping[str, Any]  # the public status, JSON-ready (times in the office's zone)
    status_json: str  # `status` serialised once
    estimates: Estimates
    #: Minutes each further ticket adds, per category, for places beyond the simulated queue.
    per_ticket_minutes: Mapping[str, float]
    places: Mapping[int, tuple[str, int]]  # waiting ticket id -> (category, people ahead)
    #: public id -> (ticket, people ahead) of every waiting or called ticket; the view itself is
    #: built when asked for, so a long queue does not make every recompute dearer.
    open_tickets: Mapping[str, tuple[Ticket | WaitingTicket, int]]
    office: Office
    congestion: Mapping[str, str] = field(default_factory=dict)

    def public_ticket(self, public_id: str) -> dict[str, Any] | None:
        """The slip's page view of an open ticket, or None when the state does not hold it."""
        found = self.open_tickets.get(public_id)
        if found is None:
            return None
        ticket, ahead = found
        if isinstance(ticket, WaitingTicket):
            figure = self.figure(ticket.category_id, ahead)
        else:
            figure = AT_COUNTER
        return public_ticket(ticket, self.office, ahead, figure, self.seq)

    @property
    def etag(self) -> str:
        """Changes whenever the figures can: with the seq, and with the tick at the same seq."""
        return f'"{self.seq}.{int(self.as_of.timestamp())}"'

    def figure(self, category_id: str, ahead: int) -> Figure:
        """Figures for a ticket with `ahead` people before it in `category_id`."""
        ranks = self.estimates.by_rank.get(category_id, ())
        if 0 <= ahead < len(ranks):
            return round_figure(ranks[ahead])
        last = ranks[-1] if ranks else None
        if last is None:
            return NO_FIGURE
        # The queue grew since this state was computed: each extra ticket adds its share.
        extra = (ahead - (len(ranks) - 1)) * self.per_ticket_minutes.get(category_id, 0.0)
        return round_figure(WaitEstimate(last.minutes + extra, last.low + extra, last.high + extra))


class StateProjector:
    """Computes `QueueState`s; keeps what earlier days taught (learnt once per business day)."""

    def __init__(
        self,
        estimator: WaitEstimator,
        tick_seconds: float = 30.0,
    ) -> None:
        self._estimator = estimator
        self._tick = max(tick_seconds, 1.0)
        self._history: tuple[date, History] | None = None

    def as_of(self, now: datetime, last_event_at: datetime | None) -> datetime:
        """The moment figures are made for: the last tick, or the last event if later."""
        epoch = now.timestamp()
        tick = datetime.fromtimestamp(epoch - epoch % self._tick, UTC)
        return max(tick, last_event_at) if last_event_at is not None else tick

    def compute(
        self, store: QueueStore, office: Office, now: datetime, previous: QueueState | None
    ) -> QueueState:
        """Read the queue once, estimate once, and shape every reader's view of it."""
        seq = store.office().seq
        at = self.as_of(now, store.last_event_at())
        day = office.business_date(at)
        zone = office.zone
        states = store.counter_states()
        changed = store.counter_state_times()
        occupied_list = store.occupied_counters(day)
        occupied = {t.counter_id: t for t in occupied_list}
        start = day_start_of(at, zone)
        history = self._learnt_history(store, office, day)
        counters = tuple(
            CounterState(
                id=c.id,
                categories=c.categories,
                state=states.get(c.id, "open"),
                since=changed.get(c.id),
                busy_category=occupied[c.id].category_id if c.id in occupied else None,
                busy_since=occupied[c.id].called_at if c.id in occupied else None,
            )
            for c in office.counters
        )
        waiting = store.waiting_queue(day)
        by_category: dict[str, list[WaitingTicket]] = {}
        for ticket in waiting:
            by_category.setdefault(ticket.category_id, []).append(ticket)
        scheduled = expected_reservations(store, office, day, at)
        for rows in by_category.values():
            rows.sort(key=lambda w: queue_position(w, at))
        # Today's facts through the same builder as earlier days' and as the backtest's.
        today = store.facts(start, at + timedelta(seconds=1), zone)
        snapshot = build_snapshot(
            now=at,
            zone=zone,
            priors={c.id: c.service_minutes for c in office.categories},
            counters=counters,
            waiting={
                c: [(queue_position(t, at)[0], t.queued_at) for t in rows]
                for c, rows in by_category.items()
            },
            history=history,
            today=today,
            day_start=start,
            scheduled=scheduled,
        )
        estimates = self._estimator(snapshot)
        per_ticket = {}
        for category in office.categories:
            servers = sum(1 for k in counters if k.state == "open" and category.id in k.categories)
            per_ticket[category.id] = snapshot.service_minutes.get(category.id, 5.0) / max(
                servers, 1
            )

        places: dict[int, tuple[str, int]] = {}
        open_tickets: dict[str, tuple[Ticket | WaitingTicket, int]] = {}
        for category_id, rows in by_category.items():
            for ahead, ticket in enumerate(rows):
                places[ticket.id] = (category_id, ahead)
                open_tickets[ticket.public_id] = (ticket, ahead)
        for at_counter in occupied_list:
            open_tickets[at_counter.public_id] = (at_counter, 0)

        status, congestion = self._status(
            store, office, at, seq, estimates, by_category, occupied_list, states, previous
        )
        status = jsonable(status, zone)
        return QueueState(
            seq=seq,
            as_of=at,
            business_date=day,
            status=status,
            status_json=json.dumps(status, ensure_ascii=False, separators=(",", ":")),
            estimates=estimates,
            per_ticket_minutes=per_ticket,
            places=places,
            open_tickets=open_tickets,
            office=office,
            congestion=congestion,
        )

    def _learnt_history(self, store: QueueStore, office: Office, day: date) -> History:
        """What earlier days teach the estimator; learnt on the first use of each day."""
        cached = self._history
        if cached is not None and cached[0] == day:
            return cached[1]
        zone = office.zone
        start = day_start_of(datetime(day.year, day.month, day.day, 12, tzinfo=zone), zone)
        history = learn_history(store.facts(*history_window(start), zone), zone)
        self._history = (day, history)
        return history

    def _status(
        self,
        store: QueueStore,
        office: Office,
        at: datetime,
        seq: int,
        estimates: Estimates,
        waiting: Mapping[str, Sequence[WaitingTicket]],
        occupied: Sequence[Ticket],
        states: Mapping[str, str],
        previous: QueueState | None,
    ) -> tuple[dict[str, Any], dict[str, str]]:
        day = office.business_date(at)
        last_numbers = store.last_numbers(day)
        categories = []
        lamps: dict[str, str] = {}
        for category in office.categories:
            last = last_numbers.get(category.id)
            issued = 0 if last is None else last - category.number_start + 1
            reason = office.reception_closed_reason(category, at)
            if reason is None and category.daily_cap is not None and issued >= category.daily_cap:
                reason = "daily_cap_reached"
            if reason is None and last is not None and last >= category.number_end:
                reason = "number_range_exhausted"
            count = len(waiting.get(category.id, ()))
            minutes, low, high = round_figure(estimates.for_new_ticket(category.id))
            if reason is not None and not count:
                lamp = "closed"
            else:
                before = previous.congestion.get(category.id) if previous is not None else None
                lamp = lamp_level(minutes or 0, count, office.congestion, previous=before)
            lamps[category.id] = lamp
            categories.append(
                {
                    "id": category.id,
                    "prefix": category.prefix,
                    "waiting": count,
                    "issued_today": issued,
                    "open": reason is None,
                    "closed_reason": reason,
                    "estimated_wait_minutes": minutes,
                    "estimate_low_minutes": low,
                    "estimate_high_minutes": high,
                    "congestion": lamp,
                    "called": [
                        called_ticket(t, office) for t in occupied if t.category_id == category.id
                    ],
                }
            )
        by_counter = {t.counter_id: t for t in occupied}
        counters = [
            {
                "id": c.id,
                "number": c.number,
                "state": states.get(c.id, "open"),
                "ticket": called_ticket(by_counter[c.id], office) if c.id in by_counter else None,
            }
            for c in office.counters
        ]
        recent = [recent_call(call, office) for call in store.recent_calls(day, RECENT_CALLS)]
        status = {
            "office_id": office.id,
            "seq": seq,
            "generated_at": at,
            "business_date": day,
            "open": office.is_open(at),
            "categories": categories,
            "counters": counters,
            "recent_calls": recent,
        }
        return status, lamps


def queue_position(ticket: WaitingTicket, at: datetime) -> tuple[int, datetime]:
    """Call order as the dispatch sees it at `at`: a reservation checked in before its slot
    has a walk-in's rank until then (`domain.dispatch`)."""
    rank = ticket.priority_rank
    if rank == Priority.RESERVATION.rank and ticket.queued_at > at:
        rank = Priority.NORMAL.rank
    return (rank, ticket.queued_at)  # ties keep the store's order (by number): stable sort


def expected_reservations(
    store: ReservationStore, office: Office, day: date, at: datetime
) -> dict[str, list[datetime]]:
    """Per reservable procedure, the slot starts of today's bookings still expected (booked,
    not checked in, within their grace): the estimator counts them ahead of walk-ins."""
    out: dict[str, list[datetime]] = {}
    for category in office.categories:
        if category.reservable and category.reservation is not None:
            out[category.id] = []
    for booking in store.reservations_between(day, day):
        if booking.state != ReservationState.BOOKED or booking.category_id not in out:
            continue
        rule = office.category(booking.category_id).reservation
        assert rule is not None
        if not is_no_show(rule, booking.slot_start, at):
            out[booking.category_id].append(booking.slot_start)
    return out
