"""The raw facts the wait estimator learns from, on SQLAlchemy Core (`LearningFacts`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, select

from queue_server.adapters import tables as t
from queue_server.domain.learning import Arrival, ServiceSample


class SqlLearningFacts:
    """Raw facts read from transitions, tickets and counter states (`LearningFacts`)."""

    _c: Connection
    _office_id: str

    def service_samples(self, since: datetime, until: datetime) -> list[ServiceSample]:
        tr = t.ticket_transitions.c
        rows = self._c.execute(
            select(tr.category_id, tr.from_category_id, tr.service_minutes, tr.at, tr.counter_id)
            .where(
                tr.office_id == self._office_id,
                tr.at >= since,
                tr.at < until,
                tr.service_minutes.is_not(None),
            )
            .order_by(tr.at)
        )
        return [
            ServiceSample(
                r.from_category_id or r.category_id, float(r.service_minutes), r.at, r.counter_id
            )
            for r in rows
        ]

    def arrivals(self, since: datetime, until: datetime) -> list[Arrival]:
        c = t.tickets.c
        rows = self._c.execute(
            select(c.origin_category_id, c.priority_rank, c.issued_at).where(
                c.office_id == self._office_id, c.issued_at >= since, c.issued_at < until
            )
        )
        return [Arrival(r[0], int(r[1]), r[2]) for r in rows]

    def call_outcomes(
        self, since: datetime, until: datetime
    ) -> tuple[dict[str, int], dict[str, int], float]:
        """Per category: calls resolved (finished, transferred, no-show), no-shows among them."""
        tr = t.ticket_transitions.c
        category = func.coalesce(tr.from_category_id, tr.category_id)
        rows = self._c.execute(
            select(category, tr.action, func.count())
            .where(
                tr.office_id == self._office_id,
                tr.at >= since,
                tr.at < until,
                tr.action.in_(["finish", "transfer", "no-show"]),
            )
            .group_by(category, tr.action)
        )
        calls: dict[str, int] = {}
        missed: dict[str, int] = {}
        for cat, action, count in rows:
            calls[cat] = calls.get(cat, 0) + int(count)
            if action == "no-show":
                missed[cat] = missed.get(cat, 0) + int(count)
        # The counter time a no-show costs is not stored per row: assume the usual recall wait.
        return calls, missed, 1.5 * sum(missed.values())

    def counter_state_times(self) -> dict[str, datetime]:
        c = t.counter_states.c
        rows = self._c.execute(
            select(c.counter_id, c.updated_at).where(c.office_id == self._office_id)
        )
        return {r.counter_id: r.updated_at for r in rows}
