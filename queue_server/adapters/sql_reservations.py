"""Visit reservations on SQLAlchemy Core (`ReservationStore`).

Bookings are written by the office's writer under the office lock (see `sql_store`), so a
slot's count and the insert that fills its last place are one step on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from queue_server.adapters import tables as t
from queue_server.domain.notices import Subscription
from queue_server.domain.reservations import HOLDING_STATES, Reservation

_r = t.reservations.c
_FIELDS = (
    "reference",
    "code_hash",
    "category_id",
    "business_date",
    "slot_start",
    "slot_minutes",
    "language",
    "state",
    "created_at",
    "updated_at",
    "reminder_channel",
    "reminder_address",
    "ticket_id",
    "reminder_sent_at",
    "reminder_attempts",
)


def _row(reservation: Reservation) -> dict[str, Any]:
    return {name: getattr(reservation, name) for name in _FIELDS}


def _reservation(mapping: Any) -> Reservation:
    return Reservation(id=mapping["id"], **{name: mapping[name] for name in _FIELDS})


class SqlReservationStore:
    """Visit reservations of one office (`ReservationStore`)."""

    _c: Connection
    _office_id: str

    def add_reservation(self, reservation: Reservation) -> None:
        result = self._c.execute(
            insert(t.reservations).values(office_id=self._office_id, **_row(reservation))
        )
        key = result.inserted_primary_key
        assert key is not None
        reservation.id = int(key[0])

    def save_reservation(self, reservation: Reservation) -> None:
        values = {k: v for k, v in _row(reservation).items() if k not in ("reference", "code_hash")}
        self._c.execute(
            update(t.reservations)
            .where(_r.id == reservation.id, _r.office_id == self._office_id)
            .values(**values)
        )

    def _reservation_where(self, *where: Any) -> Reservation | None:
        row = self._c.execute(
            select(t.reservations).where(_r.office_id == self._office_id, *where)
        ).first()
        return _reservation(row._mapping) if row is not None else None

    def reservation_by_reference(self, reference: str) -> Reservation | None:
        return self._reservation_where(_r.reference == reference)

    def reservation_by_code(self, code_hash: str) -> Reservation | None:
        return self._reservation_where(_r.code_hash == code_hash)

    def reservation_for_ticket(self, ticket_id: int) -> Reservation | None:
        return self._reservation_where(_r.ticket_id == ticket_id)

    def booked_counts(self, category_id: str, day: date) -> dict[datetime, int]:
        rows = self._c.execute(
            select(_r.slot_start, func.count())
            .where(
                _r.office_id == self._office_id,
                _r.category_id == category_id,
                _r.business_date == day,
                _r.state.in_([str(s) for s in HOLDING_STATES]),
            )
            .group_by(_r.slot_start)
        )
        return {start: int(count) for start, count in rows}

    def reservations_between(
        self, first: date, last: date, category_id: str | None = None
    ) -> list[Reservation]:
        query = select(t.reservations).where(
            _r.office_id == self._office_id,
            _r.business_date >= first,
            _r.business_date <= last,
        )
        if category_id is not None:
            query = query.where(_r.category_id == category_id)
        rows = self._c.execute(query.order_by(_r.slot_start, _r.id))
        return [_reservation(row._mapping) for row in rows]

    def forget_reservation_contacts(self, through: date) -> int:
        result = self._c.execute(
            update(t.reservations)
            .where(
                _r.office_id == self._office_id,
                _r.business_date <= through,
                _r.reminder_address.is_not(None),
            )
            .values(reminder_address=None)
        )
        return int(result.rowcount)


_n = t.notice_subscriptions.c
_NOTICE_FIELDS = (
    "token",
    "ticket_id",
    "business_date",
    "channel",
    "address",
    "ahead",
    "language",
    "created_at",
    "sent",
    "attempts",
)


class SqlNoticeStore:
    """Notice subscriptions of one office (`NoticeStore`)."""

    _c: Connection
    _office_id: str

    def add_subscription(self, subscription: Subscription) -> None:
        values = {name: getattr(subscription, name) for name in _NOTICE_FIELDS}
        result = self._c.execute(
            insert(t.notice_subscriptions).values(office_id=self._office_id, **values)
        )
        key = result.inserted_primary_key
        assert key is not None
        subscription.id = int(key[0])

    def save_subscription(self, subscription: Subscription) -> None:
        self._c.execute(
            update(t.notice_subscriptions)
            .where(_n.id == subscription.id, _n.office_id == self._office_id)
            .values(sent=list(subscription.sent), attempts=subscription.attempts)
        )

    def subscriptions(self) -> list[Subscription]:
        rows = self._c.execute(
            select(t.notice_subscriptions).where(_n.office_id == self._office_id).order_by(_n.id)
        )
        return [
            Subscription(id=row.id, **{name: getattr(row, name) for name in _NOTICE_FIELDS})
            for row in rows
        ]

    def delete_subscription(self, token: str) -> bool:
        result = self._c.execute(
            delete(t.notice_subscriptions).where(_n.office_id == self._office_id, _n.token == token)
        )
        return bool(result.rowcount)

    def delete_subscriptions_through(self, day: date) -> int:
        result = self._c.execute(
            delete(t.notice_subscriptions).where(
                _n.office_id == self._office_id, _n.business_date <= day
            )
        )
        return int(result.rowcount)
