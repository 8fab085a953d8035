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
import secrets
from datetime import date, datetime, timedelta
from typing import Any

from queue_server.domain.codes import PREFIX, CodeUnknown, CodeUsed, VisitCode, make_code, read_code
from queue_server.domain.office import LANGUAGES, Category, Office
from queue_server.domain.reservations import (
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
    normalise_short_code,
    offers,
    rule_of,
)
from queue_server.service.contacts import valid_address, valid_channel
from queue_server.service.core import InvalidRequest, UnsupportedLanguage
from queue_server.service.ports import QueueStore, ReservationStore
from queue_server.service.reminding import Reminding, reminder_token
from queue_server.service.reservation_reports import ReservationReports

logger = logging.getLogger(__name__)


def new_short_code() -> str:
    """A random short code, grouped for reading aloud, e.g. `K7MQ-4RXA`."""
    raw = "".join(secrets.choice(SHORT_CODE_ALPHABET) for _ in range(SHORT_CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def code_hash(short_code: str) -> str:
    """What the database keeps of a short code."""
    return hashlib.sha256(normalise_short_code(short_code).encode()).hexdigest()


def looks_like_short_code(text: str) -> bool:
    """Whether `text` has the short code's shape (not a QR text, not anything else)."""
    raw = normalise_short_code(text).replace("-", "")
    return len(raw) == SHORT_CODE_LENGTH and all(ch in SHORT_CODE_ALPHABET for ch in raw)


def _minutes_between(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


class Reserving(Reminding, ReservationReports):
    """Book, change, cancel and check in visit reservations; remind; show them to staff."""

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
        self,
        category_id: str,
        start: datetime,
        language: str = "ja",
        email: str | None = None,
        reminder: tuple[str, str] | None = None,
        available: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """Take one place in a slot; the answer holds the QR payload and the short code
        (shown once: the server keeps only the short code's hash). `reminder` is the channel
        (one of `available`) and address for the reminder the day before; `email` is the
        older form of an e-mail reminder."""
        secret = self._secret()
        if language not in LANGUAGES:
            raise UnsupportedLanguage(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        channel, contact = self._reminder_choice(email, reminder, available)

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
                reminder_channel=channel,
                reminder_address=contact,
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

    # -- shared -------------------------------------------------------------------------------

    def _secret(self) -> bytes:
        if self._code_secret is None:
            raise InvalidRequest("this server does not take reservations (no code secret)")
        return self._code_secret

    @staticmethod
    def _reminder_choice(
        email: str | None, reminder: tuple[str, str] | None, available: tuple[str, ...]
    ) -> tuple[str | None, str | None]:
        """The reminder's channel and address as stored, or (None, None) for none."""
        if reminder is not None:
            if email is not None and email.strip():
                raise InvalidRequest("give either email or reminder, not both")
            channel, address = reminder
            valid_channel(channel, available)
            return channel, valid_address(channel, address)
        if email is None or not email.strip():
            return None, None
        return "email", valid_address("email", email)

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
            "reminder": reservation.reminder_channel is not None,
            "reminder_channel": reservation.reminder_channel,
            "check_in_from": opens,
            "check_in_until": closes,
        }
        if reservation.state == ReservationState.BOOKED:
            answer["code"] = make_code(
                secret, VisitCode("reservation", category.id, reservation.reference, closes)
            )
        if short_code is not None:
            answer["short_code"] = short_code
        if reservation.reminder_address is not None:
            # The code is the key to the booking: whoever holds it may stop its reminder too.
            answer["reminder_token"] = reminder_token(secret, reservation.reference)
        return answer
