"""Visit reservations (来庁予約): reservable slots, capacity, check-in windows, short codes.

Pure functions of the office's calendar and a procedure's `ReservationRule`. A slot is a span
of `slot_minutes` that lies wholly inside the procedure's reservable hours *and* the office's
opening hours of that local date (so the last slot before lunch ends at lunch, and a holiday,
年末年始 or closed date has none, while a 休日開庁 special opening has the slots that fit in it).
Times are aware datetimes in the office's zone; dates are the office's local dates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from queue_server.domain.errors import DomainError
from queue_server.domain.office import Category, Office, ReservationRule, TimeRange

#: Short codes use letters and digits that are hard to mix up when read aloud or typed.
SHORT_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
SHORT_CODE_LENGTH = 8


class NotReservable(DomainError):
    code = "not_reservable"
    status = 422
    message_ja = "この手続きは予約できません。"


class SlotUnavailable(DomainError):
    code = "slot_unavailable"
    status = 422
    message_ja = "この時間は予約できません。別の時間をお選びください。"


class SlotFull(DomainError):
    code = "slot_full"
    status = 409
    message_ja = "この時間は予約がいっぱいです。別の時間をお選びください。"


class ReservationNotFound(DomainError):
    code = "reservation_not_found"
    status = 404
    message_ja = "予約が見つかりません。予約番号をお確かめください。"


class ReservationClosed(DomainError):
    code = "reservation_closed"
    status = 409
    message_ja = "この予約は変更・取消できません。"


class CheckInTooEarly(DomainError):
    code = "check_in_too_early"
    status = 422
    message_ja = "予約の受付はまだ始まっていません。予約時間の少し前にお越しください。"


class CheckInTooLate(DomainError):
    code = "check_in_too_late"
    status = 422
    message_ja = "予約の時間を過ぎています。整理券をお取りください。"


@dataclass(frozen=True)
class Slot:
    """One reservable span of a procedure on one local date."""

    category_id: str
    start: datetime  # aware, office zone
    end: datetime
    capacity: int

    @property
    def day(self) -> date:
        return self.start.date()


@dataclass(frozen=True)
class SlotOffer:
    """A slot with what is left of it, as a resident sees it."""

    slot: Slot
    booked: int
    open: bool  # False when too close, past or beyond the horizon

    @property
    def left(self) -> int:
        return max(0, self.slot.capacity - self.booked)

    @property
    def bookable(self) -> bool:
        return self.open and self.left > 0


def capacity_from_share(
    share: float, counters: int, slot_minutes: int, service_minutes: float
) -> int:
    """Bookings per slot when reservations take `share` of the counter time of the counters
    serving a procedure: at least one when the share is positive."""
    if share <= 0 or counters <= 0:
        return 0
    return max(1, math.floor(share * counters * slot_minutes / service_minutes))


def rule_of(category: Category) -> ReservationRule:
    """The procedure's rule; `NotReservable` when it takes no reservations."""
    if not category.reservable or category.reservation is None:
        raise NotReservable(f"{category.id!r} takes no reservations")
    return category.reservation


def _intersect(a: TimeRange, b: TimeRange) -> TimeRange | None:
    start = max(a.start, b.start)
    end = min(a.end, b.end)
    return TimeRange(start, end) if start < end else None


def _minutes(moment: time) -> int:
    if moment == time.max:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def slots_on(office: Office, category: Category, day: date) -> list[Slot]:
    """Every slot of `category` on the local date `day` (none when the office is closed)."""
    rule = rule_of(category)
    hours = office.calendar.hours_on(day)
    if hours is None:
        return []
    if day in office.calendar.special_openings and not rule.on_special_openings:
        return []
    if not office.calendar.offers(day, category.id):
        return []
    spans = [hours] if not rule.hours else [_intersect(hours, r) for r in rule.hours]
    last = _minutes(category.last_reception) if category.last_reception else 24 * 60
    out: list[Slot] = []
    zone = office.zone
    midnight = datetime.combine(day, time(0), tzinfo=zone)
    for span in spans:
        if span is None:
            continue
        begin, end = _minutes(span.start), _minutes(span.end)
        # Slots start on the span's start and follow each other; the last one ends in time.
        start = begin
        while start + rule.slot_minutes <= end and start < last:
            out.append(
                Slot(
                    category.id,
                    midnight + timedelta(minutes=start),
                    midnight + timedelta(minutes=start + rule.slot_minutes),
                    rule.per_slot,
                )
            )
            start += rule.slot_minutes
    out.sort(key=lambda s: s.start)
    return out


def booking_opens(rule: ReservationRule, slot: Slot, now: datetime) -> bool:
    """Whether `slot` can be booked, changed to or cancelled at `now` (lead time, horizon)."""
    if now + timedelta(minutes=rule.lead_minutes) > slot.start:
        return False
    local_today = now.astimezone(slot.start.tzinfo).date()
    return slot.day <= local_today + timedelta(days=rule.days_ahead)


def bookable_days(office: Office, category: Category, now: datetime) -> list[date]:
    """Local dates from today through the horizon with at least one slot still open in time."""
    rule = rule_of(category)
    today = office.business_date(now)
    days = []
    for offset in range(rule.days_ahead + 1):
        day = today + timedelta(days=offset)
        if any(booking_opens(rule, s, now) for s in slots_on(office, category, day)):
            days.append(day)
    return days


def offers(
    office: Office, category: Category, day: date, booked: Mapping[datetime, int], now: datetime
) -> list[SlotOffer]:
    """The day's slots with places left; `booked` counts live bookings per slot start."""
    rule = rule_of(category)
    return [
        SlotOffer(slot, booked.get(slot.start, 0), booking_opens(rule, slot, now))
        for slot in slots_on(office, category, day)
    ]


def find_slot(office: Office, category: Category, start: datetime) -> Slot:
    """The slot that starts at `start`; `SlotUnavailable` when there is none."""
    local = office.local(start)
    for slot in slots_on(office, category, local.date()):
        if slot.start == local:
            return slot
    raise SlotUnavailable(f"{category.id!r} has no slot at {local:%Y-%m-%d %H:%M}")


def check_bookable(
    office: Office, category: Category, start: datetime, booked: int, now: datetime
) -> Slot:
    """The slot at `start` if one more booking fits now; else `SlotUnavailable` or `SlotFull`."""
    slot = find_slot(office, category, start)
    if not booking_opens(rule_of(category), slot, now):
        raise SlotUnavailable(f"the slot at {office.local(start):%Y-%m-%d %H:%M} is not open")
    if booked >= slot.capacity:
        raise SlotFull(f"the slot at {office.local(start):%Y-%m-%d %H:%M} is full")
    return slot


def check_in_window(rule: ReservationRule, slot_start: datetime) -> tuple[datetime, datetime]:
    """When a reservation can be checked in at the kiosk: [opens, closes)."""
    return (
        slot_start - timedelta(minutes=rule.early_minutes),
        slot_start + timedelta(minutes=rule.grace_minutes),
    )


def check_in(rule: ReservationRule, slot_start: datetime, now: datetime) -> None:
    """Refuse a check-in before the window (`CheckInTooEarly`) or after it (`CheckInTooLate`)."""
    opens, closes = check_in_window(rule, slot_start)
    if now < opens:
        raise CheckInTooEarly(f"check-in opens at {opens:%H:%M}")
    if now >= closes:
        raise CheckInTooLate(f"check-in closed at {closes:%H:%M}")


def is_no_show(rule: ReservationRule, slot_start: datetime, now: datetime) -> bool:
    """A booking not checked in by the end of its grace is a no-show (its place is released)."""
    return now >= check_in_window(rule, slot_start)[1]


def normalise_short_code(text: str) -> str:
    """The code as stored: upper case, without separators or spaces; full-width folded."""
    folded = "".join(
        chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in text.strip()
    )
    cleaned = "".join(ch for ch in folded.upper() if ch.isalnum())
    return f"{cleaned[:4]}-{cleaned[4:]}" if len(cleaned) == SHORT_CODE_LENGTH else cleaned


class ReservationState(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


#: States that hold a place in their slot.
HOLDING_STATES = (ReservationState.BOOKED, ReservationState.CHECKED_IN)


@dataclass
class Reservation:
    """One booking. The short code is kept hashed. A reminder's address (an e-mail address, a
    LINE user id or a browser's push subscription, only when the resident asked for one) is
    deleted once the reminder is sent, or the booking is cancelled, checked in or its day
    closed; the channel stays, to tell staff a reminder was asked."""

    reference: str  # in the signed QR code
    code_hash: str  # sha256 of the normalised short code
    category_id: str
    business_date: date
    slot_start: datetime
    slot_minutes: int
    language: str
    state: str
    created_at: datetime
    updated_at: datetime
    reminder_channel: str | None = None  # "email", "line" or "webpush"
    reminder_address: str | None = None
    ticket_id: int | None = None
    reminder_sent_at: datetime | None = None
    reminder_attempts: int = 0
    id: int | None = None

    def _require_booked(self, doing: str) -> None:
        if self.state != ReservationState.BOOKED:
            raise ReservationClosed(f"cannot {doing} a reservation that is {self.state}")

    def cancel(self, now: datetime) -> None:
        self._require_booked("cancel")
        self.state = ReservationState.CANCELLED
        self.reminder_address = None
        self.updated_at = now

    def move(self, slot: Slot, now: datetime) -> None:
        self._require_booked("change")
        self.slot_start = slot.start
        self.business_date = slot.day
        self.slot_minutes = int((slot.end - slot.start).total_seconds() // 60)
        self.updated_at = now

    def check_in(self, ticket_id: int, now: datetime) -> None:
        self._require_booked("check in")
        self.state = ReservationState.CHECKED_IN
        self.ticket_id = ticket_id
        self.reminder_address = None  # here already: no reminder is due any more
        self.updated_at = now

    def wants_reminder(self, max_attempts: int) -> bool:
        """Still booked, with an address, not reminded yet, attempts left."""
        return (
            self.state == ReservationState.BOOKED
            and self.reminder_channel is not None
            and self.reminder_address is not None
            and self.reminder_sent_at is None
            and self.reminder_attempts < max_attempts
        )

    def mark_no_show(self, now: datetime) -> None:
        self._require_booked("mark as no-show")
        self.state = ReservationState.NO_SHOW
        self.updated_at = now
