"""Visit reservations (来庁予約): offers, booking, change and cancel with the resident's code,
check-in at the kiosk, no-shows, staff lists and slot occupancy.

A booking runs as a job of the office's writer (under the office lock), so counting a slot's
places and taking the last one cannot race between kiosks, phones or server processes. The
resident holds two keys to the same booking, both enough to change or cancel it and to check in:
the signed QR code (`MDG1…`, kind `reservation`, its reference pointing to the booking) and a
short code (`K7MQ-4RXA`) to read to staff over the phone; the server keeps only its hash.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any

import visitor_text
from queue_server.domain.codes import PREFIX, CodeUnknown, CodeUsed, VisitCode, make_code, read_code
from queue_server.domain.office import LANGUAGES, Category, Office
from queue_server.domain.reservations import (
    HOLDING_STATES,
    SHORT_CODE_ALPHABET,
    SHORT_CODE_LENGTH,
    Reservation,
    ReservationClosed,
    ReservationNotFound,
    ReservationState,
    bookable_days,
    check_bookable,
    check_in,
    check_in_window,
    is_no_show,
    normalise_short_code,
    offers,
    rule_of,
    slots_on,
)
from queue_server.service.core import InvalidRequest, ServiceCore, UnsupportedLanguage
from queue_server.service.ports import Mailer, QueueStore, ReservationStore

logger = logging.getLogger(__name__)
#: How often a reminder is tried before it is given up.
REMINDER_ATTEMPTS = 5
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def new_short_code() -> str:
    """A random short code, grouped for reading aloud, e.g. `K7MQ-4RXA`."""
    raw = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def code_hash(short_code: str) -> str:
    """What the database keeps of a short code."""
    return hashlib.sha256(normalise_short_code(short_code).encode()).hexdigest()


def _release_reminder(store: ReservationStore, reference: str) -> None:
    reservation = store.reservation_by_reference(reference)
    if reservation is not None:
        reservation.reminder_sent_at = None
        store.save_reservation(reservation)


def looks_like_short_code(text: str) -> bool:
    """Whether `text` has the short code's shape (not a QR text, not anything else)."""
    raw = normalise_short_code(text).replace("-", "")
    return len(raw) == SHORT_CODE_LENGTH and all(ch in SHORT_CODE_ALPHABET for ch in raw)


def _minutes_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


class Reserving(ServiceCore):
    """Book, change, cancel and check in visit reservations; show them to staff."""

    # Set by `QueueService`.
    _code_secret: bytes | None

    # -- offers (public) --------------------------------------------------------------------

    def reservable_procedures(self) -> list[dict[str, Any]]:
        """The procedures residents can book, with their slot rules."""

        def work(store: QueueStore, office: Office, now: datetime) -> list[dict[str, Any]]:
            out = []
            for category in office.categories:
                if not category.reservable or category.reservation is None:
                    continue
                rule = category.reservation
                out.append(
                    {
                        "id": category.id,
                        "names": dict(category.names),
                        "slot_minutes": rule.slot_minutes,
                        "days_ahead": rule.days_ahead,
                        "lead_minutes": rule.lead_minutes,
                        "early_minutes": rule.early_minutes,
                        "grace_minutes": rule.grace_minutes,
                    }
                )
            return out

        return self._read(work)

    def reservation_days(self, category_id: str) -> list[dict[str, Any]]:
        """Local dates with slots still open for booking, and how many places are left."""

        def work(store: QueueStore, office: Office, now: datetime) -> list[dict[str, Any]]:
            category = office.category(category_id)
            out = []
            for day in bookable_days(office, category, now):
                day_offers = offers(
                    office, category, day, store.booked_counts(category.id, day), now
                )
                left = sum(o.left for o in day_offers if o.open)
                out.append({"date": day, "left": left, "full": left == 0})
            return out

        return self._read(work)

    def reservation_slots(self, category_id: str, day: date) -> list[dict[str, Any]]:
        """The day's slots: start, end, places left, whether one can book it now."""

        def work(store: QueueStore, office: Office, now: datetime) -> list[dict[str, Any]]:
            category = office.category(category_id)
            booked = store.booked_counts(category.id, day)
            return [
                {
                    "start": o.slot.start,
                    "end": o.slot.end,
                    "capacity": o.slot.capacity,
                    "left": o.left,
                    "bookable": o.bookable,
                }
                for o in offers(office, category, day, booked, now)
            ]

        return self._read(work)

    # -- the resident's booking -------------------------------------------------------------

    def book(
        self, category_id: str, start: datetime, language: str = "ja", email: str | None = None
    ) -> dict[str, Any]:
        """Take one place in a slot; the answer holds the QR payload and the short code
        (shown once: the server keeps only the short code's hash)."""
        secret = self._secret()
        if language not in LANGUAGES:
            raise UnsupportedLanguage(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        contact = self._email(email)

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            category = office.category(category_id)
            day = office.business_date(start)
            booked = store.booked_counts(category.id, day).get(start, 0)
            slot = check_bookable(office, category, start, booked, now)
            short = new_short_code()
            reservation = Reservation(
                reference=secrets.token_urlsafe(12),
                code_hash=code_hash(short),
                category_id=category.id,
                business_date=slot.day,
                slot_start=slot.start,
                slot_minutes=_minutes_between(slot.start, slot.end),
                language=language,
                state=ReservationState.BOOKED,
                created_at=now,
                updated_at=now,
                email=contact,
            )
            store.add_reservation(reservation)
            return self._answer(office, category, reservation, secret, short_code=short)

        return self._write(work)

    def find_reservation(self, code: str) -> dict[str, Any]:
        """The booking a resident's QR text or short code points to."""
        secret = self._secret()

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            reservation = self._resolve(store, now, code)
            category = office.category(reservation.category_id)
            return self._answer(office, category, reservation, secret)

        return self._read(work)

    def cancel_reservation(self, code: str) -> dict[str, Any]:
        """Cancel with the QR text or short code; the place is free again at once."""
        secret = self._secret()

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            reservation = self._resolve(store, now, code)
            category = office.category(reservation.category_id)
            if now >= reservation.slot_start:
                raise ReservationClosed("the reservation's time has passed")
            reservation.cancel(now)
            store.save_reservation(reservation)
            return self._answer(office, category, reservation, secret)

        return self._write(work)

    def change_reservation(self, code: str, start: datetime) -> dict[str, Any]:
        """Move a booking to another slot of the same procedure (same short code; a new QR)."""
        secret = self._secret()

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            reservation = self._resolve(store, now, code)
            category = office.category(reservation.category_id)
            if reservation.state != ReservationState.BOOKED:
                raise ReservationClosed(f"the reservation is {reservation.state}")
            if now >= reservation.slot_start:
                raise ReservationClosed("the reservation's time has passed")
            day = office.business_date(start)
            booked = store.booked_counts(category.id, day).get(start, 0)
            if start == reservation.slot_start:
                booked -= 1  # its own place
            slot = check_bookable(office, category, start, booked, now)
            reservation.move(slot, now)
            store.save_reservation(reservation)
            return self._answer(office, category, reservation, secret)

        return self._write(work)

    # -- check-in (the kiosk, through issuing) ----------------------------------------------

    def _reservation_for_visit(
        self, store: ReservationStore, office: Office, visit: VisitCode, now: datetime
    ) -> Reservation | None:
        """The stored booking a scanned reservation code checks in, once the window allows;
        None for a code made by `madoguchi codes make` (no booking behind it)."""
        if visit.kind != "reservation":
            return None
        reservation = store.reservation_by_reference(visit.reference)
        if reservation is None:
            return None
        return self._checkable(office, reservation, now)

    def _reservation_for_short_code(
        self, store: ReservationStore, office: Office, text: str, now: datetime
    ) -> Reservation | None:
        """A short code typed at a counter or kiosk; None when `text` is not one."""
        if not looks_like_short_code(text):
            return None
        reservation = store.reservation_by_code(code_hash(text))
        if reservation is None:
            raise CodeUnknown("no reservation has this code")
        return self._checkable(office, reservation, now)

    @staticmethod
    def _checkable(office: Office, reservation: Reservation, now: datetime) -> Reservation:
        if reservation.state == ReservationState.CHECKED_IN:
            raise CodeUsed("this reservation has already been checked in")
        if reservation.state != ReservationState.BOOKED:
            raise ReservationClosed(f"the reservation is {reservation.state}")
        check_in(rule_of(office.category(reservation.category_id)), reservation.slot_start, now)
        return reservation

    # -- reminders ---------------------------------------------------------------------------

    def send_reminders(self, mailer: Mailer, from_hour: int = 12) -> int:
        """E-mail tomorrow's bookings that asked for a reminder, from `from_hour` (local) the
        day before: each once, never once cancelled; a failure is retried on the next run,
        up to `REMINDER_ATTEMPTS` times. Returns how many were sent."""

        def due(store: QueueStore, office: Office, now: datetime) -> list[Reservation]:
            local = office.local(now)
            if local.hour < from_hour:
                return []
            tomorrow = local.date() + timedelta(days=1)
            found = store.reservations_between(tomorrow, tomorrow)
            return [r for r in found if r.wants_reminder(REMINDER_ATTEMPTS)]

        if not self._read(due):
            return 0  # the usual case: no write transaction

        def claim(
            store: QueueStore, office: Office, now: datetime
        ) -> list[tuple[str, str, str, str]]:
            out = []
            for reservation in due(store, office, now):
                # Claimed as sent under the office lock: no other process sends it too.
                reservation.reminder_attempts += 1
                reservation.reminder_sent_at = now
                store.save_reservation(reservation)
                assert reservation.email is not None
                subject, body = self._reminder(office, reservation)
                out.append((reservation.reference, reservation.email, subject, body))
            return out

        sent = 0
        for reference, address, subject, body in self._write(claim):
            try:
                mailer.send(address, subject, body)
            except Exception as exc:  # released: the next run tries again
                logger.warning("reminder not sent (%s); retried later", type(exc).__name__)

                def release(
                    store: QueueStore, office: Office, now: datetime, ref: str = reference
                ) -> None:
                    _release_reminder(store, ref)

                self._write(release)
                continue
            sent += 1
        return sent

    def _reminder(self, office: Office, reservation: Reservation) -> tuple[str, str]:
        lang = reservation.language
        category = office.category(reservation.category_id)
        start = office.local(reservation.slot_start)
        opens, closes = check_in_window(rule_of(category), reservation.slot_start)
        values = {
            "office": office.names.get(lang) or office.names["ja"],
            "procedure": category.name(lang),
            "date": start.date().isoformat(),
            "time": f"{start:%H:%M}",
            "start": f"{office.local(opens):%H:%M}",
            "end": f"{office.local(closes):%H:%M}",
            "url": f"{self._public_base_url}/reserve",
        }
        subject = visitor_text.text(lang, "reserve.reminder_subject", **values)
        return subject, visitor_text.text(lang, "reserve.reminder_body", **values)

    # -- staff --------------------------------------------------------------------------------

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
                        "reminder": r.email is not None,
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

    # -- shared -------------------------------------------------------------------------------

    def _secret(self) -> bytes:
        if self._code_secret is None:
            raise InvalidRequest("this server does not take reservations (no code secret)")
        return self._code_secret

    @staticmethod
    def _email(email: str | None) -> str | None:
        if email is None or not email.strip():
            return None
        cleaned = email.strip()
        if len(cleaned) > 254 or not _EMAIL.match(cleaned):
            raise InvalidRequest("the e-mail address is not valid")
        return cleaned

    def _resolve(self, store: ReservationStore, now: datetime, code: str) -> Reservation:
        """The booking behind a QR text (signature and expiry checked) or a short code."""
        text = code.strip()
        if text.startswith(PREFIX):
            visit = read_code(self._secret(), text, now)
            if visit.kind != "reservation":
                raise CodeUnknown("this is not a reservation code")
            found = store.reservation_by_reference(visit.reference)
        else:
            found = store.reservation_by_code(code_hash(text))
        if found is None:
            raise ReservationNotFound("no reservation has this code")
        return found

    @staticmethod
    def _answer(
        office: Office,
        category: Category,
        reservation: Reservation,
        secret: bytes,
        short_code: str | None = None,
    ) -> dict[str, Any]:
        rule = rule_of(category)
        opens, closes = check_in_window(rule, reservation.slot_start)
        answer: dict[str, Any] = {
            "category_id": category.id,
            "names": dict(category.names),
            "date": reservation.business_date,
            "slot_start": reservation.slot_start,
            "slot_end": reservation.slot_start + timedelta(minutes=reservation.slot_minutes),
            "state": reservation.state,
            "language": reservation.language,
            "reminder": reservation.email is not None,
            "check_in_from": opens,
            "check_in_until": closes,
        }
        if reservation.state == ReservationState.BOOKED:
            answer["code"] = make_code(
                secret, VisitCode("reservation", category.id, reservation.reference, closes)
            )
        if short_code is not None:
            answer["short_code"] = short_code
        return answer
