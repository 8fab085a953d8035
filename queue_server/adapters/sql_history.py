"""The wait estimator's `Facts`, read from the live tables (tickets, transitions, office events).

The backtest builds the same `Facts` from a ticket log (`queue_server.backtest.replay.log_facts`);
tests/integration/test_sql_history.py writes one log into a database and checks both agree, so
the live server learns exactly what the backtest measured.

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
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from queue_server.adapters import tables as t
from queue_server.domain.learning import (
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


def _minutes(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


def read_facts(
    connection: Connection, office_id: str, since: datetime, until: datetime, zone: ZoneInfo
) -> Facts:
    """The facts of `office_id` between `since` (included) and `until` (excluded)."""
    services: list[ServiceSample] = []
    arrivals: list[Arrival] = []
    waits: list[Wait] = []
    abandonments: list[Abandonment] = []
    calls: dict[str, int] = defaultdict(int)
    no_shows: dict[str, int] = defaultdict(int)
    lost: list[float] = []

    tr = t.ticket_transitions.c
    tk = t.tickets.c
    # Every transition of the tickets that moved inside the span, up to its end: a wait or a
    # no-show inside the span may need the queue entry or call that came just before it.
    moved = (
        select(tr.ticket_id)
        .where(tr.office_id == office_id, tr.at >= since, tr.at < until)
        .distinct()
    )
    rows = connection.execute(
        select(
            tr.ticket_id,
            tr.action,
            tr.from_state,
            tr.at,
            tr.category_id,
            tr.from_category_id,
            tr.counter_id,
            tr.service_minutes,
            tk.priority_rank,
        )
        .join(t.tickets, tk.id == tr.ticket_id)
        .where(tr.ticket_id.in_(moved), tr.at < until)
        .order_by(tr.ticket_id, tr.at, tr.id)
    )
    ticket: Any = None
    queued: datetime | None = None
    called: datetime | None = None
    for r in rows:
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
        pauses=tuple(_pauses(connection, office_id, since, until, zone)),
        days=open_days(arrivals, zone),
    )


def _pauses(
    connection: Connection, office_id: str, since: datetime, until: datetime, zone: ZoneInfo
) -> list[Pause]:
    e = t.office_events.c
    rows = connection.execute(
        select(e.type, e.at, e.payload)
        .where(
            e.office_id == office_id,
            e.at >= since,
            e.at < until,
            e.type.in_(["counter.changed", "ticket.called"]),
        )
        .order_by(e.seq)
    )
    stopped: dict[str, tuple[datetime, date]] = {}  # counter -> when it stopped, local day
    out: list[Pause] = []
    for r in rows:
        payload = r.payload or {}
        counter_id = payload.get("counter_id")
        if not counter_id:
            continue
        if r.type == "counter.changed":
            state = (payload.get("detail") or {}).get("state")
            if state in ("paused", "closed"):
                stopped.setdefault(counter_id, (r.at, r.at.astimezone(zone).date()))
                continue
            if state != "open":
                continue
        began = stopped.pop(counter_id, None)
        if began is not None and began[1] == r.at.astimezone(zone).date():
            out.append(Pause(counter_id, began[0], _minutes(began[0], r.at)))
    return out
