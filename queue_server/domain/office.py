"""Office configuration: calendar, procedure categories and counters (immutable values)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from queue_server.domain.congestion import DEFAULT_LAMP, LampThresholds
from queue_server.domain.errors import NotFound

#: Visitor-facing languages, Japanese first. "ja-easy" is やさしい日本語 (plain Japanese).
LANGUAGES: tuple[str, ...] = ("ja", "en", "zh-Hans", "ko", "vi", "pt", "ja-easy")


@dataclass(frozen=True)
class TimeRange:
    """Opening hours within one local day, start inclusive and end exclusive."""

    start: time
    end: time

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, time) and self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@functools.lru_cache(maxsize=4)
def _public_holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country, language="ja")


@dataclass(frozen=True)
class Calendar:
    """Which local dates the office opens, and when."""

    weekly_hours: Mapping[int, TimeRange]  # Monday = 0
    holiday_country: str | None = "JP"
    year_end_closure: bool = True  # 年末年始 12/29-1/3
    closed_dates: Mapping[date, str] = field(default_factory=dict)
    special_openings: Mapping[date, TimeRange] = field(default_factory=dict)  # 休日開庁
    # The procedures a 休日開庁 day offers, when not all of them.
    special_procedures: Mapping[date, tuple[str, ...]] = field(default_factory=dict)

    def offers(self, day: date, category_id: str) -> bool:
        """Whether `category_id` takes visitors on `day` when the office opens."""
        only = self.special_procedures.get(day) if day in self.special_openings else None
        return only is None or category_id in only

    def closed_reason(self, day: date) -> str | None:
        """Why the office is closed on `day` (Japanese), or None when it opens."""
        if day in self.special_openings:
            return None
        if day in self.closed_dates:
            return self.closed_dates[day] or "休庁日"
        if self.year_end_closure and (
            (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)
        ):
            return "年末年始"
        if self.holiday_country:
            name = _public_holidays(self.holiday_country).get(day)
            if name:
                return str(name)
        if day.weekday() not in self.weekly_hours:
            return "閉庁日"
        return None

    def hours_on(self, day: date) -> TimeRange | None:
        """Opening hours on `day`, or None when closed all day."""
        if day in self.special_openings:
            return self.special_openings[day]
        if self.closed_reason(day) is not None:
            return None
        return self.weekly_hours.get(day.weekday())

    def upcoming_closed_days(self, start: date, days: int) -> list[tuple[date, str]]:
        """Closed dates in [start, start + days), with their reasons."""
        out: list[tuple[date, str]] = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            reason = self.closed_reason(day)
            if reason is not None:
                out.append((day, reason))
        return out


@dataclass(frozen=True)
class ReservationRule:
    """How a procedure takes visit reservations (来庁予約); slots are computed in
    `domain.reservations`."""

    slot_minutes: int = 30
    per_slot: int = 1  # bookings one slot takes
    hours: tuple[TimeRange, ...] = ()  # reservable hours each open day; () = opening hours
    days_ahead: int = 30  # how far ahead residents can book
    lead_minutes: int = 60  # no booking (or change) closer to the slot than this
    on_special_openings: bool = True  # 休日開庁 days take bookings too
    early_minutes: int = 30  # check-in opens this long before the slot
    grace_minutes: int = 15  # and stays open this long after its start


@dataclass(frozen=True)
class Category:
    """A procedure (手続き) visitors take a ticket for."""

    id: str
    names: Mapping[str, str]
    prefix: str
    number_start: int
    number_end: int
    fee: int = 0
    daily_cap: int | None = None
    service_minutes: float = 5.0  # prior mean counter time, refined from the day's events
    last_reception: time | None = None  # earlier end of reception than the office's hours
    waiting_area: Mapping[str, str] = field(default_factory=dict)
    forms: tuple[str, ...] = ()  # request forms this procedure prefills (書かない窓口)
    reservable: bool = False
    reservation: ReservationRule | None = None  # set when `reservable`

    def display_number(self, number: int) -> str:
        """The number as shown on slips and boards, e.g. "A-012"."""
        width = len(str(self.number_end))
        return f"{self.prefix}-{number:0{width}d}"

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["ja"]


@dataclass(frozen=True)
class Counter:
    """A service counter (窓口) and the categories it serves, in priority order."""

    id: str
    number: int
    names: Mapping[str, str]
    categories: tuple[str, ...]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["ja"]


@dataclass(frozen=True)
class PrinterConfig:
    """A slip printer the server itself can print on (reprints at a counter)."""

    id: str
    name: str
    url: str
    profile: str | None = None


@dataclass(frozen=True)
class Office:
    """One office (庁舎/課): its calendar, categories and counters."""

    id: str
    names: Mapping[str, str]
    timezone: str
    calendar: Calendar
    day_close: time | None  # None: close out only when the business date changes
    categories: tuple[Category, ...]
    counters: tuple[Counter, ...]
    printers: tuple[PrinterConfig, ...] = ()
    languages: tuple[str, ...] = LANGUAGES  # the visitor languages it offers, Japanese first
    congestion: LampThresholds = DEFAULT_LAMP  # where its lamps turn yellow and red

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """`moment` (aware) in the office's time zone."""
        return moment.astimezone(self.zone)

    def business_date(self, moment: datetime) -> date:
        """The local calendar date tickets issued at `moment` belong to."""
        return self.local(moment).date()

    def category(self, category_id: str) -> Category:
        for category in self.categories:
            if category.id == category_id:
                return category
        raise NotFound(f"unknown category {category_id!r}")

    def counter(self, counter_id: str) -> Counter:
        for counter in self.counters:
            if counter.id == counter_id:
                return counter
        raise NotFound(f"unknown counter {counter_id!r}")

    def printer(self, printer_id: str) -> PrinterConfig:
        for printer in self.printers:
            if printer.id == printer_id:
                return printer
        raise NotFound(f"unknown printer {printer_id!r}")

    def is_open(self, moment: datetime) -> bool:
        local = self.local(moment)
        hours = self.calendar.hours_on(local.date())
        return hours is not None and local.time().replace(tzinfo=None) in hours

    def reception_closed_reason(self, category: Category, moment: datetime) -> str | None:
        """Why a ticket for `category` cannot be issued at `moment`, or None (caps aside)."""
        local = self.local(moment)
        hours = self.calendar.hours_on(local.date())
        if hours is None or not self.calendar.offers(local.date(), category.id):
            return "closed_day"
        now = local.time().replace(tzinfo=None)
        if now not in hours:
            return "outside_hours"
        if category.last_reception is not None and now >= category.last_reception:
            return "reception_ended"
        return None

    def day_close_at(self, day: date) -> datetime:
        """The aware moment the business day `day` is closed out."""
        close = self.day_close if self.day_close is not None else time.max
        return datetime.combine(day, close, tzinfo=self.zone)
