"""Loading office configurations into the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update

from queue_server.adapters import tables as t
from queue_server.adapters.database import writer
from queue_server.adapters.office_file import parse_office
from queue_server.adapters.sql_store import SqlQueueStore
from queue_server.domain.office import Office


def load_office(engine: Engine, raw: dict[str, Any], at: datetime) -> Office:
    """Validate `raw`, then create or replace the office's configuration.

    Tickets, numbers and events are kept; counters new to the office start open.
    """
    office = parse_office(raw)
    with writer(engine).begin() as c:
        exists = c.execute(select(t.offices.c.id).where(t.offices.c.id == office.id)).first()
        if exists:
            c.execute(
                update(t.offices)
                .where(t.offices.c.id == office.id)
                .values(config=raw, updated_at=at)
            )
        else:
            # Nothing before the day the office is loaded needs closing out.
            yesterday = office.business_date(at) - timedelta(days=1)
            c.execute(
                insert(t.offices).values(
                    id=office.id, config=raw, seq=0, closed_through=yesterday, updated_at=at
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
