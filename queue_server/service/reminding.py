"""Reservation reminders ("your visit tomorrow at 10:30") on the channel the resident chose at
booking (e-mail, LINE, Web Push: the notices' senders), each with a one-tap link that stops
them: the link's token is signed with the code secret, so no column holds it.

Each reminder is claimed (marked sent, attempt counted) under the office lock, so several server
processes never send one twice; it is sent outside the transaction, and a failed send releases
it for the next pass, up to `REMINDER_ATTEMPTS` times. Once sent, its address is deleted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import visitor_text
from queue_server.domain.office import Office
from queue_server.domain.reservations import Reservation, check_in_window, rule_of
from queue_server.service.core import ServiceCore
from queue_server.service.ports import Mailer, QueueStore, ReservationStore

logger = logging.getLogger(__name__)
#: How often a reminder is tried before it is given up.
REMINDER_ATTEMPTS = 5
#: Tokens that stop a booking's reminders start so (a notice subscription's token never does).
REMINDER_TOKEN_PREFIX = "r."


def reminder_token(secret: bytes, reference: str) -> str:
    """The token of the link that stops `reference`'s reminders."""
    mac = hmac.new(secret, f"stop-reminders:{reference}".encode(), hashlib.sha256).digest()
    signature = base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")
    return f"{REMINDER_TOKEN_PREFIX}{reference}.{signature}"


def reminder_reference(secret: bytes, token: str) -> str | None:
    """The booking a reminder token stops, or None when the token is not one we signed."""
    if not token.startswith(REMINDER_TOKEN_PREFIX):
        return None
    reference, _, _ = token[len(REMINDER_TOKEN_PREFIX) :].rpartition(".")
    if not reference or not hmac.compare_digest(reminder_token(secret, reference), token):
        return None
    return reference


def _release_reminder(store: ReservationStore, reference: str) -> None:
    reservation = store.reservation_by_reference(reference)
    if reservation is not None:
        reservation.reminder_sent_at = None
        store.save_reservation(reservation)


def _forget_address(store: ReservationStore, reference: str) -> None:
    reservation = store.reservation_by_reference(reference)
    if reservation is not None:
        reservation.reminder_address = None
        store.save_reservation(reservation)


class Reminding(ServiceCore):
    """Remind tomorrow's bookings that asked for it; stop that with one tap."""

    # Set by `QueueService`.
    _code_secret: bytes | None

    def send_reminders(self, senders: Mapping[str, Mailer], from_hour: int = 12) -> int:
        """Remind tomorrow's bookings that asked for it, on their channel among `senders`,
        from `from_hour` (local) the day before: each once, never once cancelled; a failure is
        retried on the next run, up to `REMINDER_ATTEMPTS` times. Returns how many were sent."""

        def due(store: QueueStore, office: Office, now: datetime) -> list[Reservation]:
            local = office.local(now)
            if local.hour < from_hour:
                return []
            tomorrow = local.date() + timedelta(days=1)
            found = store.reservations_between(tomorrow, tomorrow)
            return [
                r
                for r in found
                if r.wants_reminder(REMINDER_ATTEMPTS) and r.reminder_channel in senders
            ]

        if not self._read(due):
            return 0  # the usual case: no write transaction

        def claim(
            store: QueueStore, office: Office, now: datetime
        ) -> list[tuple[str, str, str, str, str, str]]:
            out = []
            for reservation in due(store, office, now):
                # Claimed as sent under the office lock: no other process sends it too.
                reservation.reminder_attempts += 1
                reservation.reminder_sent_at = now
                store.save_reservation(reservation)
                channel, address = reservation.reminder_channel, reservation.reminder_address
                assert channel is not None and address is not None
                stop = self._reminder_stop_url(reservation)
                subject, body = self._reminder(office, reservation, stop)
                out.append((reservation.reference, channel, address, subject, body, stop))
            return out

        sent = 0
        for reference, channel, address, subject, body, stop in self._write(claim):
            try:
                senders[channel].send(address, subject, body, unsubscribe_url=stop)
            except Exception as exc:  # released: the next run tries again
                logger.warning("reminder not sent (%s); retried later", type(exc).__name__)

                def release(
                    store: QueueStore, office: Office, now: datetime, ref: str = reference
                ) -> None:
                    _release_reminder(store, ref)

                self._write(release)
                continue

            def forget(
                store: QueueStore, office: Office, now: datetime, ref: str = reference
            ) -> None:
                _forget_address(store, ref)

            self._write(forget)  # sent: the address is no longer needed
            sent += 1
        return sent

    def _reminder(self, office: Office, reservation: Reservation, stop: str) -> tuple[str, str]:
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
        body = visitor_text.text(lang, "reserve.reminder_body", **values)
        return subject, f"{body}\n\n{visitor_text.text(lang, 'reserve.reminder_stop', url=stop)}"

    def stop_reminders(self, token: str) -> bool:
        """One tap from the reminder or the booking page: the booking's reminder (channel and
        address) is deleted (True), or the token is unknown or already used (False)."""
        if self._code_secret is None:
            return False
        reference = reminder_reference(self._code_secret, token)
        if reference is None:
            return False

        def work(store: QueueStore, office: Office, now: datetime) -> bool:
            reservation = store.reservation_by_reference(reference)
            if reservation is None or reservation.reminder_channel is None:
                return False
            reservation.reminder_address = None
            reservation.reminder_channel = None
            store.save_reservation(reservation)
            return True

        return self._write(work)

    def _reminder_stop_url(self, reservation: Reservation) -> str:
        assert self._code_secret is not None  # bookings need it
        token = reminder_token(self._code_secret, reservation.reference)
        lang = reservation.language  # the page opens in the language of the booking
        return f"{self._public_base_url}/notify/unsubscribe/{token}?lang={lang}"
