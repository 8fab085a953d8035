"""In-memory fakes of the record ports: codes, devices, attachments, reservations, notices and
the estimator's facts (see `fakes` for the queue's own ports and the factory)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from queue_server.domain.facts import Facts
from queue_server.domain.notices import Subscription
from queue_server.domain.recorded import RecordedEvent, RecordedTransition, facts_from_records
from queue_server.domain.reservations import HOLDING_STATES, Reservation
from queue_server.domain.ticket import Ticket
from queue_server.service.fake_tables import FakePort


class FakeCodeStore(FakePort):
    def code_redeemed(self, fingerprint: str) -> bool:
        return fingerprint in self.tables.redeemed

    def redeem_code(self, fingerprint: str, ticket: Ticket, at: datetime) -> None:
        self.tables.redeemed[fingerprint] = (ticket.id, at)

    def add_preapplication(self, record: Mapping[str, Any]) -> None:
        stored = {"office_id": self.tables.office.id, **record}
        self.tables.preapplications[str(record["reference"])] = stored

    def take_preapplication(self, reference: str) -> dict[str, Any] | None:
        return self.tables.preapplications.pop(reference, None)

    def delete_expired_preapplications(self, now: datetime) -> int:
        expired = [r for r, p in self.tables.preapplications.items() if p["expires_at"] <= now]
        for reference in expired:
            del self.tables.preapplications[reference]
        return len(expired)

    def audit(
        self, actor: str, action: str, ticket_id: int | None, at: datetime, detail: str = ""
    ) -> None:
        self.tables.audit_log.append((actor, action, ticket_id, at))


class FakeDeviceStore(FakePort):
    def device_health(self, name: str) -> dict[str, Any] | None:
        found = self.tables.devices.get(name)
        return None if found is None or found["health"] is None else dict(found["health"])

    def set_device_health(self, name: str, health: Mapping[str, Any], at: datetime) -> None:
        found = self.tables.devices.get(name)
        if found is not None:  # an unknown device changes nothing, as an UPDATE of no row
            found.update(health=dict(health), health_at=at, last_seen_at=at)

    def devices(self) -> list[dict[str, Any]]:
        return [dict(self.tables.devices[name]) for name in sorted(self.tables.devices)]


class FakeAttachmentStore(FakePort):
    def attach(self, ticket: Ticket, kind: str, data: Mapping[str, Any], at: datetime) -> None:
        self.tables.attachments.append(
            {
                "ticket_id": ticket.id,
                "business_date": ticket.business_date,
                "kind": kind,
                "data": copy.deepcopy(dict(data)),
                "created_at": at,
            }
        )

    def attachments(self, ticket: Ticket) -> list[dict[str, Any]]:
        return [
            {"kind": a["kind"], "data": copy.deepcopy(a["data"]), "created_at": a["created_at"]}
            for a in self.tables.attachments
            if a["ticket_id"] == ticket.id
        ]

    def delete_attachments_through(self, day: date) -> int:
        kept = [a for a in self.tables.attachments if a["business_date"] > day]
        deleted = len(self.tables.attachments) - len(kept)
        self.tables.attachments = kept
        return deleted


class FakeReservationStore(FakePort):
    def add_reservation(self, reservation: Reservation) -> None:
        reservation.id = max(self.tables.reservations, default=0) + 1
        self.tables.reservations[reservation.id] = replace(reservation)

    def save_reservation(self, reservation: Reservation) -> None:
        assert reservation.id is not None
        stored = self.tables.reservations[reservation.id]
        self.tables.reservations[reservation.id] = replace(
            reservation, reference=stored.reference, code_hash=stored.code_hash
        )

    def _find(self, keep: Callable[[Reservation], bool]) -> Reservation | None:
        found = next((r for r in self.tables.reservations.values() if keep(r)), None)
        return replace(found) if found is not None else None

    def reservation_by_reference(self, reference: str) -> Reservation | None:
        return self._find(lambda r: r.reference == reference)

    def reservation_by_code(self, code_hash: str) -> Reservation | None:
        return self._find(lambda r: r.code_hash == code_hash)

    def reservation_for_ticket(self, ticket_id: int) -> Reservation | None:
        return self._find(lambda r: r.ticket_id == ticket_id)

    def booked_counts(self, category_id: str, day: date) -> dict[datetime, int]:
        counts: dict[datetime, int] = {}
        for r in self.tables.reservations.values():
            holds = r.state in HOLDING_STATES
            if holds and r.category_id == category_id and r.business_date == day:
                counts[r.slot_start] = counts.get(r.slot_start, 0) + 1
        return counts

    def reservations_between(
        self, first: date, last: date, category_id: str | None = None
    ) -> list[Reservation]:
        found = [
            replace(r)
            for r in self.tables.reservations.values()
            if first <= r.business_date <= last and category_id in (None, r.category_id)
        ]
        return sorted(found, key=lambda r: (r.slot_start, r.id or 0))

    def forget_reservation_contacts(self, through: date) -> int:
        forgotten = 0
        for r in self.tables.reservations.values():
            if r.business_date <= through and r.reminder_address is not None:
                r.reminder_address = None
                forgotten += 1
        return forgotten


class FakeNoticeStore(FakePort):
    def add_subscription(self, subscription: Subscription) -> None:
        subscription.id = max(self.tables.subscriptions, default=0) + 1
        self.tables.subscriptions[subscription.id] = replace(
            subscription, sent=list(subscription.sent)
        )

    def save_subscription(self, subscription: Subscription) -> None:
        assert subscription.id is not None
        stored = self.tables.subscriptions[subscription.id]
        stored.sent = list(subscription.sent)
        stored.attempts = subscription.attempts

    def subscriptions(self) -> list[Subscription]:
        return [replace(s, sent=list(s.sent)) for _, s in sorted(self.tables.subscriptions.items())]

    def delete_subscription(self, token: str) -> bool:
        found = [i for i, s in self.tables.subscriptions.items() if s.token == token]
        for i in found:
            del self.tables.subscriptions[i]
        return bool(found)

    def delete_subscriptions_through(self, day: date) -> int:
        old = [i for i, s in self.tables.subscriptions.items() if s.business_date <= day]
        for i in old:
            del self.tables.subscriptions[i]
        return len(old)


class FakeLearningFacts(FakePort):
    def facts(self, since: datetime, until: datetime, zone: ZoneInfo) -> Facts:
        moved = {i for i, tr, _ in self.tables.transitions if since <= tr.at < until}
        rows = sorted(
            (
                (i, tr.at, n, tr)
                for n, (i, tr, _) in enumerate(self.tables.transitions)
                if i in moved and tr.at < until
            ),
            key=lambda row: row[:3],
        )
        transitions = [
            RecordedTransition(
                i,
                tr.action.value,
                tr.from_state.value if tr.from_state else None,
                tr.at,
                tr.category_id,
                tr.from_category_id,
                tr.counter_id,
                tr.service_minutes,
                self.tables.tickets[i].priority.rank,
            )
            for i, _, _, tr in rows
        ]
        events = [
            RecordedEvent(kind, at, payload)
            for _, kind, at, payload in self.tables.events
            if since <= at < until and kind in ("counter.changed", "ticket.called")
        ]
        return facts_from_records(transitions, events, since, zone)

    def counter_state_times(self) -> dict[str, datetime]:
        return {c: at for c, (_, at) in self.tables.counters.items()}
