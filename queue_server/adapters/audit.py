"""The audit log outside the queue's own transactions: logins, accounts, devices, the office file.

Rows hold who (`staff:NAME`, `device:NAME`, or the name tried at a failed login), what (a short
action name), when, and ticket or device ids and states in `detail`; never a password, a token,
or anything a visitor wrote. Actions inside a queue change (counter states, reprints, request
views) are written by the store in the same transaction.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from queue_server.adapters import tables as t
from queue_server.adapters.database import writer
from queue_server.service.ports import Clock

COLUMNS = ("id", "at", "actor", "action", "ticket_id", "device", "detail")


class AuditLog:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._writer = writer(engine)
        self._clock = clock

    def record(
        self,
        actor: str,
        action: str,
        *,
        ticket_id: int | None = None,
        device: str | None = None,
        detail: str = "",
    ) -> None:
        with self._writer.begin() as c:
            c.execute(
                insert(t.audit_log).values(
                    at=self._clock.now(),
                    actor=actor[:80],
                    action=action[:40],
                    ticket_id=ticket_id,
                    device=device[:80] if device else None,
                    detail=detail[:200] or None,
                )
            )

    def entries(
        self,
        first: datetime | None = None,
        last: datetime | None = None,
        action: str | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Newest first, at most `limit`, between two instants and of one action if given."""
        a = t.audit_log.c
        query = select(t.audit_log).order_by(a.at.desc(), a.id.desc()).limit(limit)
        if first is not None:
            query = query.where(a.at >= first)
        if last is not None:
            query = query.where(a.at < last)
        if action is not None:
            query = query.where(a.action == action)
        with self._engine.connect() as c:
            return [dict(row._mapping) for row in c.execute(query)]


def audit_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV (UTF-8, one header line) for a spreadsheet."""
    out = io.StringIO()
    writer_ = csv.writer(out, lineterminator="\r\n")
    writer_.writerow(COLUMNS)
    for row in rows:
        values = [row.get(column) for column in COLUMNS]
        values[1] = row["at"].isoformat()
        writer_.writerow([_cell(v) for v in values])
    return out.getvalue()


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: no formula from a name typed at a login."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
