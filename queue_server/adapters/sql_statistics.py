"""Read-only queries for statistics and the admin pages (SQLite and PostgreSQL alike)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine, select

from queue_server.adapters import tables as t
from queue_server.service.statistics import Transition


class SqlStatistics:
    """`StatisticsStore` over `tickets` and `ticket_transitions` of one office."""

    def __init__(self, engine: Engine, office_id: str) -> None:
        self._engine = engine
        self._office_id = office_id

    def transitions(self, first: date, last: date) -> list[Transition]:
        tr, tk = t.ticket_transitions.c, t.tickets.c
        # Whole logs of the tickets of those business days, so a wait that crosses midnight
        # UTC or the window's end is still measured; (office_id, business_date) is indexed.
        query = (
            select(
                tr.ticket_id,
                tk.display_number,
                tr.action,
                tr.to_state,
                tr.at,
                tr.category_id,
                tr.counter_id,
                tr.actor,
                tk.priority,
            )
            .join(t.tickets, tk.id == tr.ticket_id)
            .where(
                tk.office_id == self._office_id,
                tk.business_date >= first,
                tk.business_date <= last,
            )
            .order_by(tr.ticket_id, tr.at, tr.id)
        )
        with self._engine.connect() as c:
            return [
                Transition(
                    ticket_id=int(r.ticket_id),
                    number=r.display_number,
                    action=r.action,
                    to_state=r.to_state,
                    at=r.at,
                    category_id=r.category_id,
                    counter_id=r.counter_id,
                    actor=r.actor,
                    priority=r.priority,
                )
                for r in c.execute(query)
            ]

    def staff(self) -> list[dict[str, Any]]:
        """Staff accounts without their password hashes."""
        u = t.users.c
        with self._engine.connect() as c:
            rows = c.execute(select(u.name, u.role, u.active, u.created_at).order_by(u.name))
            return [dict(r._mapping) for r in rows]

    def office_config(self) -> dict[str, Any]:
        """The office file as loaded (the raw table form it was validated from)."""
        with self._engine.connect() as c:
            config = c.execute(
                select(t.offices.c.config).where(t.offices.c.id == self._office_id)
            ).scalar_one()
        return dict(config)
