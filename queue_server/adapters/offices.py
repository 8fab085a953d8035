"""Loading office configurations into the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from queue_server.adapters import tables as t
from queue_server.adapters.database import writer
from queue_server.adapters.office_file import parse_office
from queue_server.adapters.sql_store import SqlQueueStore
from queue_server.domain.errors import DomainError
from queue_server.domain.office import Office
from queue_server.domain.ticket import OPEN_STATES, TicketState


class OfficeChangeConflict(DomainError):
    code = "office_change_conflict"
    status = 409
    message_ja = (
        "呼出中・待ち中の整理券がある窓口または手続きは削除できません。"
        "整理券の対応が終わってから（または閉庁後に）読み込んでください。"
    )


def live_references(c: Connection, office_id: str) -> tuple[set[str], set[str]]:
    """Categories with open tickets, and counters holding one (called, serving, on hold)."""
    tk = t.tickets.c
    rows = c.execute(
        select(tk.category_id, tk.counter_id, tk.state)
        .where(tk.office_id == office_id, tk.state.in_([s.value for s in OPEN_STATES]))
        .distinct()
    ).all()
    categories = {r.category_id for r in rows}
    counters = {r.counter_id for r in rows if r.counter_id and r.state != TicketState.ISSUED.value}
    return categories, counters


def _refuse_breaking_changes(c: Connection, office: Office) -> None:
    """A counter or category that live tickets point at cannot go (status would break)."""
    categories, counters = live_references(c, office.id)
    gone_categories = sorted(categories - {cat.id for cat in office.categories})
    gone_counters = sorted(counters - {counter.id for counter in office.counters})
    if gone_categories or gone_counters:
        parts = []
        if gone_categories:
            parts.append(f"categories {', '.join(gone_categories)} have waiting tickets")
        if gone_counters:
            parts.append(f"counters {', '.join(gone_counters)} hold called tickets")
        raise OfficeChangeConflict(
            "the new office file removes what live tickets use: "
            + "; ".join(parts)
            + ". Finish, transfer or cancel those tickets (or load the file after day close)."
        )


def load_office(
    engine: Engine, raw: dict[str, Any], at: datetime, source: str | None = None
) -> Office:
    """Validate `raw`, then create or replace the office's configuration.

    Tickets, numbers and events are kept; counters new to the office start open. A file that
    removes a category with open tickets or a counter holding one is refused
    (`OfficeChangeConflict`). `source`, the file's text, is kept to give back on download.
    """
    office = parse_office(raw)
    with writer(engine).begin() as c:
        exists = c.execute(select(t.offices.c.id).where(t.offices.c.id == office.id)).first()
        if exists:
            _refuse_breaking_changes(c, office)
            c.execute(
                update(t.offices)
                .where(t.offices.c.id == office.id)
                .values(config=raw, updated_at=at, source=source)
            )
        else:
            # Nothing before the day the office is loaded needs closing out.
            yesterday = office.business_date(at) - timedelta(days=1)
            c.execute(
                insert(t.offices).values(
                    id=office.id,
                    config=raw,
                    seq=0,
                    closed_through=yesterday,
                    updated_at=at,
                    source=source,
                )
            )
        store = SqlQueueStore(c, office.id, locked=False)
        known = store.counter_states()
        for counter in office.counters:
            if counter.id not in known:
                store.set_counter_state(counter.id, "open", at)
    return office


def office_ids(engine: Engine) -> list[str]:
    with engine.connect() as c:
        return [row.id for row in c.execute(select(t.offices.c.id).order_by(t.offices.c.id))]


def office_source(engine: Engine, office_id: str) -> str | None:
    """The office file's text as last loaded, if it was kept."""
    with engine.connect() as c:
        found = c.execute(
            select(t.offices.c.source).where(t.offices.c.id == office_id)
        ).scalar_one_or_none()
    return None if found is None else str(found)
