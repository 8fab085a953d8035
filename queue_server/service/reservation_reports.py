"""What staff and open data see of reservations: the day's list for the clerk console, bookings
and capacity per day for the admin, slot occupancy for everyone. Never contact data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from queue_server.domain.office import Office
from queue_server.domain.reservations import (
    HOLDING_STATES,
    ReservationState,
    is_no_show,
    rule_of,
    slots_on,
)
from queue_server.service.core import ServiceCore
from queue_server.service.ports import QueueStore, ReservationStore


class ReservationReports(ServiceCore):
    """Reads of reservations for staff and open data."""

    def reservations_on(self, day: date | None = None) -> dict[str, Any]:
        """The day's reservations for the clerk console: slot, procedure, state, ticket.
        No contact data; the short code is not kept, so it cannot be shown either."""

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            target = day or office.business_date(now)
            rows = []
            for r in store.reservations_between(target, target):
                category = office.category(r.category_id)
                due = r.state == ReservationState.BOOKED and is_no_show(
                    rule_of(category), r.slot_start, now
                )
                rows.append(
                    {
                        "id": r.id,
                        "category_id": r.category_id,
                        "slot_start": r.slot_start,
                        "slot_minutes": r.slot_minutes,
                        "state": ReservationState.NO_SHOW if due else r.state,
                        "ticket_id": r.ticket_id,
                        "language": r.language,
                        "reminder": r.reminder_channel is not None,
                    }
                )
            return {"date": target, "reservations": rows}

        return self._read(work)

    def reservation_summary(self, first: date | None = None, days: int = 14) -> dict[str, Any]:
        """Bookings and capacity per day and procedure (admin)."""

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            start = first or office.business_date(now)
            return {"from": start, "days": self._occupancy(store, office, start, days, now)}

        return self._read(work)

    def slot_occupancy(self, first: date | None = None, days: int = 14) -> dict[str, Any]:
        """Open data: places per slot and how many are taken; nothing about who."""

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            start = first or office.business_date(now)
            out = []
            for category in office.categories:
                if not category.reservable or category.reservation is None:
                    continue
                for offset in range(days):
                    day = start + timedelta(days=offset)
                    booked = store.booked_counts(category.id, day)
                    for slot in slots_on(office, category, day):
                        out.append(
                            {
                                "category_id": category.id,
                                "start": slot.start,
                                "end": slot.end,
                                "capacity": slot.capacity,
                                "booked": booked.get(slot.start, 0),
                            }
                        )
            return {"from": start, "days": days, "slots": out}

        return self._read(work)

    @staticmethod
    def _occupancy(
        store: ReservationStore, office: Office, start: date, days: int, now: datetime
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        last = start + timedelta(days=max(0, days - 1))
        held = store.reservations_between(start, last)
        for category in office.categories:
            if not category.reservable or category.reservation is None:
                continue
            for offset in range(days):
                day = start + timedelta(days=offset)
                slots = slots_on(office, category, day)
                if not slots:
                    continue
                mine = [r for r in held if r.category_id == category.id and r.business_date == day]
                out.append(
                    {
                        "date": day,
                        "category_id": category.id,
                        "capacity": sum(s.capacity for s in slots),
                        "booked": sum(1 for r in mine if r.state in HOLDING_STATES),
                        "checked_in": sum(
                            1 for r in mine if r.state == ReservationState.CHECKED_IN
                        ),
                        "cancelled": sum(1 for r in mine if r.state == ReservationState.CANCELLED),
                        "no_show": sum(1 for r in mine if r.state == ReservationState.NO_SHOW),
                    }
                )
        return out

    def bookings_by_slot(self, first: date, last: date) -> list[dict[str, Any]]:
        """Admin: every slot of the local dates [first, last] per procedure with its capacity
        and bookings: taken (all but cancelled), checked in, no-show (also one past its grace
        not yet closed), cancelled. Counts only: no contact data, no codes."""

        def work(store: QueueStore, office: Office, now: datetime) -> list[dict[str, Any]]:
            held = store.reservations_between(first, last)
            rows: dict[tuple[date, str, datetime], dict[str, Any]] = {}

            def row(day: date, category_id: str, start: datetime, minutes: int) -> dict[str, Any]:
                key = (day, category_id, start)
                if key not in rows:
                    rows[key] = {
                        "date": day,
                        "category_id": category_id,
                        "slot_start": start,
                        "slot_end": start + timedelta(minutes=minutes),
                        "capacity": 0,
                        "booked": 0,
                        "checked_in": 0,
                        "no_show": 0,
                        "cancelled": 0,
                    }
                return rows[key]

            for category in office.categories:
                if not category.reservable or category.reservation is None:
                    continue
                for offset in range((last - first).days + 1):
                    day = first + timedelta(days=offset)
                    for slot in slots_on(office, category, day):
                        minutes = int((slot.end - slot.start).total_seconds() // 60)
                        row(day, category.id, slot.start, minutes)["capacity"] = slot.capacity
            known = {category.id: category for category in office.categories}
            for r in held:
                # A slot the rules no longer offer keeps its bookings in the report.
                counted = row(r.business_date, r.category_id, r.slot_start, r.slot_minutes)
                state = r.state
                rules_of = known.get(r.category_id)
                past_grace = rules_of is not None and is_no_show(
                    rule_of(rules_of), r.slot_start, now
                )
                if state == ReservationState.BOOKED and past_grace:
                    state = ReservationState.NO_SHOW
                if state == ReservationState.CANCELLED:
                    counted["cancelled"] += 1
                    continue
                counted["booked"] += 1
                if state == ReservationState.CHECKED_IN:
                    counted["checked_in"] += 1
                elif state == ReservationState.NO_SHOW:
                    counted["no_show"] += 1
            return [rows[key] for key in sorted(rows)]

        return self._read(work)
