"""The wait estimator's `Facts`, read from the live tables (tickets, transitions, office events).

The rows are folded into facts by `queue_server.domain.recorded.facts_from_records`, the same
function the in-memory fake store uses; its docstring defines every fact.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from queue_server.adapters import tables as t
from queue_server.domain.facts import Facts
from queue_server.domain.recorded import RecordedEvent, RecordedTransition, facts_from_records


def read_facts(
    connection: Connection, office_id: str, since: datetime, until: datetime, zone: ZoneInfo
) -> Facts:
    """The facts of `office_id` between `since` (included) and `until` (excluded)."""
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
    e = t.office_events.c
    events = connection.execute(
        select(e.type, e.at, e.payload)
        .where(
            e.office_id == office_id,
            e.at >= since,
            e.at < until,
            e.type.in_(["counter.changed", "ticket.called"]),
        )
        .order_by(e.seq)
    )
    return facts_from_records(
        (RecordedTransition(*row) for row in rows),
        (RecordedEvent(r.type, r.at, r.payload or {}) for r in events),
        since,
        zone,
    )
