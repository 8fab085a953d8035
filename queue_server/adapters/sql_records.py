"""The small tables beside the tickets on SQLAlchemy Core: counter states (`CounterStore`),
scanned codes, pre-applications and the audit log (`CodeStore`), devices (`DeviceStore`) and the
personal data kept for the clerk (`AttachmentStore`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from queue_server.adapters import tables as t
from queue_server.domain.ticket import Ticket


class SqlCounterStore:
    """Whether each counter is open, paused or closed (`CounterStore`)."""

    _c: Connection
    _office_id: str

    def counter_states(self) -> dict[str, str]:
        c = t.counter_states.c
        rows = self._c.execute(select(c.counter_id, c.state).where(c.office_id == self._office_id))
        return {r.counter_id: r.state for r in rows}

    def set_counter_state(self, counter_id: str, state: str, at: datetime) -> None:
        c = t.counter_states.c
        updated = self._c.execute(
            update(t.counter_states)
            .where(c.office_id == self._office_id, c.counter_id == counter_id)
            .values(state=state, updated_at=at)
        )
        if updated.rowcount == 0:
            self._c.execute(
                insert(t.counter_states).values(
                    office_id=self._office_id, counter_id=counter_id, state=state, updated_at=at
                )
            )


class SqlCodeStore:
    """Redeemed codes, pre-applications and the audit log (`CodeStore`)."""

    _c: Connection
    _office_id: str

    def add_preapplication(self, record: Mapping[str, Any]) -> None:
        self._c.execute(insert(t.preapplications).values(office_id=self._office_id, **record))

    def take_preapplication(self, reference: str) -> dict[str, Any] | None:
        p = t.preapplications.c
        where = (p.reference == reference, p.office_id == self._office_id)
        row = self._c.execute(select(t.preapplications).where(*where)).first()
        if row is None:
            return None
        self._c.execute(delete(t.preapplications).where(*where))
        return dict(row._mapping)

    def delete_expired_preapplications(self, now: datetime) -> int:
        p = t.preapplications.c
        result = self._c.execute(delete(t.preapplications).where(p.expires_at <= now))
        return int(result.rowcount)

    def audit(
        self, actor: str, action: str, ticket_id: int | None, at: datetime, detail: str = ""
    ) -> None:
        self._c.execute(
            insert(t.audit_log).values(
                actor=actor[:80],
                action=action,
                ticket_id=ticket_id,
                at=at,
                device=actor.removeprefix("device:")[:80] if actor.startswith("device:") else None,
                detail=detail[:200] or None,
            )
        )

    def code_redeemed(self, fingerprint: str) -> bool:
        found = self._c.execute(
            select(t.redeemed_codes.c.fingerprint).where(
                t.redeemed_codes.c.fingerprint == fingerprint
            )
        ).first()
        return found is not None

    def redeem_code(self, fingerprint: str, ticket: Ticket, at: datetime) -> None:
        self._c.execute(
            insert(t.redeemed_codes).values(fingerprint=fingerprint, ticket_id=ticket.id, at=at)
        )


class SqlDeviceStore:
    """Kiosks and boards and their last health report (`DeviceStore`)."""

    _c: Connection
    _office_id: str

    def device_health(self, name: str) -> dict[str, Any] | None:
        health = self._c.execute(
            select(t.devices.c.health).where(t.devices.c.name == name)
        ).scalar_one_or_none()
        return None if health is None else dict(health)

    def set_device_health(self, name: str, health: Mapping[str, Any], at: datetime) -> None:
        self._c.execute(
            update(t.devices)
            .where(t.devices.c.name == name)
            .values(health=dict(health), health_at=at, last_seen_at=at)
        )

    def devices(self) -> list[dict[str, Any]]:
        d = t.devices.c
        rows = self._c.execute(
            select(d.name, d.kind, d.last_seen_at, d.health, d.health_at, d.revoked_at).order_by(
                d.name
            )
        )
        return [dict(r._mapping) for r in rows]


class SqlAttachmentStore:
    """Personal data kept with a ticket for the clerk (`AttachmentStore`)."""

    _c: Connection
    _office_id: str

    def attach(self, ticket: Ticket, kind: str, data: Mapping[str, Any], at: datetime) -> None:
        self._c.execute(
            insert(t.ticket_attachments).values(
                ticket_id=ticket.id,
                business_date=ticket.business_date,
                kind=kind,
                data=dict(data),
                created_at=at,
            )
        )

    def attachments(self, ticket: Ticket) -> list[dict[str, Any]]:
        a = t.ticket_attachments.c
        rows = self._c.execute(
            select(a.kind, a.data, a.created_at).where(a.ticket_id == ticket.id).order_by(a.id)
        )
        return [{"kind": r.kind, "data": r.data, "created_at": r.created_at} for r in rows]

    #: Personal data was deleted in this transaction: after the commit the writer scrubs the
    #: SQLite WAL (see `database.scrub_wal`).
    purged = False

    def delete_attachments_through(self, day: date) -> int:
        self.purged = True
        a = t.ticket_attachments.c
        ids = select(t.tickets.c.id).where(t.tickets.c.office_id == self._office_id)
        result = self._c.execute(
            delete(t.ticket_attachments).where(a.business_date <= day, a.ticket_id.in_(ids))
        )
        return int(result.rowcount)
