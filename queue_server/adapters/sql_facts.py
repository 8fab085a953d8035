"""What the wait estimator learns from, on SQLAlchemy Core (`LearningFacts`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from queue_server.adapters import tables as t
from queue_server.adapters.sql_history import read_facts
from queue_server.domain.facts import Facts


class SqlLearningFacts:
    """Raw facts read from transitions, tickets and counter states (`LearningFacts`)."""

    _c: Connection
    _office_id: str

    def facts(self, since: datetime, until: datetime, zone: ZoneInfo) -> Facts:
        return read_facts(self._c, self._office_id, since, until, zone)

    def counter_state_times(self) -> dict[str, datetime]:
        c = t.counter_states.c
        rows = self._c.execute(
            select(c.counter_id, c.updated_at).where(c.office_id == self._office_id)
        )
        return {r.counter_id: r.updated_at for r in rows}
