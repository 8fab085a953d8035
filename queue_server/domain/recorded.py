"""The estimator's `Facts` from what the queue recorded: ticket transitions and office events.

The live database (`adapters/sql_history.py`) and the in-memory fake store hand over the same
rows and both call `facts_from_records`, so what they learn cannot drift apart. The backtest
builds the same `Facts` from a ticket log (`backtest.events.log_facts`);
tests/integration/test_sql_history.py checks both agree.

Definitions (by event time, `since <= at < until`):
- a service is a transition that ends a counter segment (finish, transfer) with its minutes;
- a queue entry is an issue or a transfer into a category;
- a wait is a call: minutes since the ticket last entered a queue (issue, transfer, return);
- an abandonment is a cancel or close-out of a ticket still waiting (from_state "issued");
- a resolved call is a finish, transfer or no-show; a no-show costs the minutes since its call;
- a pause is a counter going paused or closed, then open again (a `counter.changed` to "open"
  or a `ticket.called` at that counter) the same local day, both inside the span.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.domain.facts import (
    Abandonment,
    Arrival,
    Facts,
    Pause,
    ServiceSample,
    Wait,
    open_days,
)

_QUEUE_ENTRIES = frozenset({"issue", "transfer", "return"})
_RESOLVED = frozenset({"finish", "transfer", "no-show"})
_LEFT = frozenset({"cancel", "close-out"})


@dataclass(frozen=True)
class RecordedTransition:
    """One stored transition, as the facts need it."""

    ticket_id: int
    action: str
    from_state: str | None
    at: datetime
    category_id: str
    from_category_id: str | None
    counter_id: str | None
    service_minutes: float | None
    priority_rank: int


@dataclass(frozen=True)
class RecordedEvent:
    """One office event of type `counter.changed` or `ticket.called`."""

    type: str
    at: datetime
    payload: Mapping[str, Any]


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def facts_from_records(
    transitions: Iterable[RecordedTransition],
    events: Iterable[RecordedEvent],
    since: datetime,
    zone: ZoneInfo,
) -> Facts:
    """Facts of the span from `since`: `transitions` are every transition, up to the span's end,
    of the tickets that moved inside it, ordered by ticket then time (a wait or a no-show may
    need the queue entry or call just before the span); `events` are the span's counter and
    call events in seq order."""
    services: list[ServiceSample] = []
    arrivals: list[Arrival] = []
    waits: list[Wait] = []
    abandonments: list[Abandonment] = []
    calls: dict[str, int] = defaultdict(int)
    no_shows: dict[str, int] = defaultdict(int)
    lost: list[float] = []
    ticket: int | None = None
    queued: datetime | None = None
    called: datetime | None = None
    for r in transitions:
        if r.ticket_id != ticket:
            ticket, queued, called = r.ticket_id, None, None
        inside = r.at >= since
        action = r.action
        if action in _QUEUE_ENTRIES:
            queued = r.at
            if inside and action != "return":
                arrivals.append(Arrival(r.category_id, int(r.priority_rank), r.at))
        if not inside:
            if action == "call":
                called = r.at
            continue
        if r.service_minutes is not None:
            category = r.from_category_id or r.category_id
            services.append(ServiceSample(category, float(r.service_minutes), r.at, r.counter_id))
        if action == "call":
            called = r.at
            if queued is not None:
                waits.append(Wait(r.category_id, _minutes(queued, r.at), r.at))
        elif action in _RESOLVED:
            category = r.from_category_id or r.category_id
            calls[category] += 1
            if action == "no-show":
                no_shows[category] += 1
                if called is not None:
                    lost.append(_minutes(called, r.at))
        elif action in _LEFT and r.from_state == "issued" and queued is not None:
            abandonments.append(Abandonment(r.category_id, _minutes(queued, r.at), r.at))

    return Facts(
        services=tuple(services),
        arrivals=tuple(arrivals),
        waits=tuple(waits),
        abandonments=tuple(abandonments),
        calls=dict(calls),
        no_shows=dict(no_shows),
        # fsum is exact, so the total does not depend on the order rows come in
        no_show_minutes=math.fsum(lost),
        pauses=tuple(pauses_from_events(events, zone)),
        days=open_days(arrivals, zone),
    )


def pauses_from_events(events: Iterable[RecordedEvent], zone: ZoneInfo) -> list[Pause]:
    """Counter pauses: stopped (paused, closed), then open again or calling, the same day."""
    stopped: dict[str, tuple[datetime, date]] = {}  # counter -> when it stopped, local day
    out: list[Pause] = []
    for r in events:
        counter_id = r.payload.get("counter_id")
        if not counter_id:
            continue
        if r.type == "counter.changed":
            state = (r.payload.get("detail") or {}).get("state")
            if state in ("paused", "closed"):
                stopped.setdefault(counter_id, (r.at, r.at.astimezone(zone).date()))
                continue
            if state != "open":
                continue
        began = stopped.pop(counter_id, None)
        if began is not None and began[1] == r.at.astimezone(zone).date():
            out.append(Pause(counter_id, began[0], _minutes(began[0], r.at)))
    return out
