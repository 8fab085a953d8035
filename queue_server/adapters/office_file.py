"""Read and validate the human-edited office file (TOML) into domain objects."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from queue_server.adapters.office_schema import (
    CongestionSection,
    Identifier,
    Model,
    Names,
    ReservationSection,
    SpecialOpening,
    parse_range,
    parse_time,
)
from queue_server.domain.errors import InvalidConfiguration
from queue_server.domain.forms import FORMS
from queue_server.domain.office import (
    LANGUAGES,
    Calendar,
    Category,
    Counter,
    Office,
    PrinterConfig,
    ReservationRule,
)
from queue_server.domain.reservations import capacity_from_share

DEMO_OFFICE = Path(__file__).resolve().parent.parent / "data" / "demo_office.toml"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The highest ticket number: five digits fit the slip, the board and the display column.
MAX_NUMBER = 99999
_NUMBER = re.compile(r"[0-9]{1,5}")


class _OfficeSection(Model):
    id: Identifier
    names: Names
    # The visitor languages this office offers (kiosk, slip, pages); names are required in these.
    languages: list[str] = Field(default_factory=lambda: list(LANGUAGES), min_length=1)
    timezone: str = "Asia/Tokyo"
    day_close: str | None = "18:00"
    holidays: str | None = "JP"
    year_end_closure: bool = True
    hours: dict[str, str]
    closed_dates: dict[date, str] = Field(default_factory=dict)
    # "09:00-12:00", or {hours = "09:00-12:00", procedures = ["moving"]} for some procedures.
    special_openings: dict[date, str | SpecialOpening] = Field(default_factory=dict)

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: list[str]) -> list[str]:
        unknown = [lang for lang in value if lang not in LANGUAGES]
        if unknown:
            known = ", ".join(LANGUAGES)
            raise ValueError(f"unknown language(s) {', '.join(unknown)}: use {known}")
        if "ja" not in value:
            raise ValueError("Japanese (ja) is always offered")
        return [lang for lang in LANGUAGES if lang in value]  # canonical order, no repeats

    @field_validator("holidays", "day_close")
    @classmethod
    def _switched_off(cls, value: str | None) -> str | None:
        """ "none" (TOML has no null) switches holidays or the day close off."""
        return None if value in (None, "", "none") else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _weekdays(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            if key not in _WEEKDAYS:
                raise ValueError(f"{key!r} is not one of {', '.join(_WEEKDAYS)}")
            parse_range(text)
        return value

    @field_validator("special_openings")
    @classmethod
    def _opening_hours(
        cls, value: dict[date, str | SpecialOpening]
    ) -> dict[date, str | SpecialOpening]:
        for opening in value.values():
            parse_range(opening if isinstance(opening, str) else opening.hours)
        return value


class _CategorySection(Model):
    id: Identifier
    names: Names
    prefix: str = Field(pattern=r"^[A-Z]{1,2}$")
    numbers: str = "1-999"
    fee: int = Field(default=0, ge=0)
    daily_cap: int | None = Field(default=None, ge=1)
    service_minutes: float = Field(default=5.0, gt=0, le=240)
    last_reception: str | None = None
    waiting_area: Names | None = None
    form: str | list[str] | None = None
    reservable: bool = False
    reservation: ReservationSection | None = None

    @model_validator(mode="after")
    def _complete(self) -> _CategorySection:
        start, sep, end = self.numbers.partition("-")
        if not (
            sep and _NUMBER.fullmatch(start) and _NUMBER.fullmatch(end) and int(start) < int(end)
        ):
            raise ValueError(
                f"numbers {self.numbers!r} is not a range like 1-999 (at most {MAX_NUMBER})"
            )
        if self.daily_cap is not None and self.daily_cap > int(end) - int(start) + 1:
            raise ValueError(f"daily_cap of {self.id!r} exceeds its number range")
        unknown = [f for f in self.forms() if f not in FORMS]
        if unknown:
            raise ValueError(f"category {self.id!r} names unknown form(s): {', '.join(unknown)}")
        return self

    def forms(self) -> tuple[str, ...]:
        if self.form is None:
            return ()
        return (self.form,) if isinstance(self.form, str) else tuple(self.form)


class _CounterSection(Model):
    id: Identifier
    number: int = Field(ge=1)
    names: Names | None = None
    categories: list[str] = Field(min_length=1)


class _PrinterSection(Model):
    id: Identifier
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^(tcp|usb|serial|file|virtual)://")
    profile: str | None = None


class OfficeFile(Model):
    """The whole office file."""

    office: _OfficeSection
    congestion: CongestionSection = Field(default_factory=CongestionSection)
    categories: list[_CategorySection] = Field(min_length=1)
    counters: list[_CounterSection] = Field(min_length=1)
    printers: list[_PrinterSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> OfficeFile:
        ids = [c.id for c in self.categories]
        prefixes = [c.prefix for c in self.categories]
        if len(set(ids)) != len(ids):
            raise ValueError("category ids must be unique")
        if len(set(prefixes)) != len(prefixes):
            raise ValueError("category prefixes must be unique")
        for category in self.categories:
            names = category.names.as_map()
            missing = [lang for lang in self.office.languages if lang not in names]
            if missing:
                raise ValueError(f"category {category.id!r} lacks names in: {', '.join(missing)}")
        for day, opening in self.office.special_openings.items():
            if isinstance(opening, SpecialOpening):
                unknown = [p for p in opening.procedures if p not in ids]
                if unknown:
                    raise ValueError(
                        f"special opening {day} names unknown procedure(s): {', '.join(unknown)}"
                    )
        counter_ids = [c.id for c in self.counters]
        if len(set(counter_ids)) != len(counter_ids):
            raise ValueError("counter ids must be unique")
        for counter in self.counters:
            unknown = [c for c in counter.categories if c not in ids]
            if unknown:
                raise ValueError(f"counter {counter.id!r} serves unknown {', '.join(unknown)}")
        return self


def _reservation_rule(category: _CategorySection, serving: int) -> ReservationRule:
    """A reservable procedure's rule; without `per_slot`, capacity is its share (default 30%)
    of the serving counters' time in each slot."""
    section = category.reservation or ReservationSection()
    per_slot = section.per_slot
    if per_slot is None:
        share = section.counter_share if section.counter_share is not None else 0.3
        per_slot = capacity_from_share(
            share, serving, section.slot_minutes, category.service_minutes
        )
    return ReservationRule(
        slot_minutes=section.slot_minutes,
        per_slot=max(1, per_slot),
        hours=tuple(parse_range(h) for h in section.hours),
        days_ahead=section.days_ahead,
        lead_minutes=section.lead_minutes,
        on_special_openings=section.on_special_openings,
        early_minutes=section.early_minutes,
        grace_minutes=section.grace_minutes,
    )


def _format_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def parse_office(raw: dict[str, Any]) -> Office:
    """Validate a parsed office file and build the domain `Office`."""
    try:
        spec = OfficeFile.model_validate(raw)
    except ValidationError as exc:
        raise InvalidConfiguration(f"office file: {_format_errors(exc)}") from exc
    section = spec.office
    calendar = Calendar(
        weekly_hours={_WEEKDAYS.index(k): parse_range(v) for k, v in section.hours.items()},
        holiday_country=section.holidays,
        year_end_closure=section.year_end_closure,
        closed_dates=dict(section.closed_dates),
        special_openings={
            d: parse_range(v if isinstance(v, str) else v.hours)
            for d, v in section.special_openings.items()
        },
        special_procedures={
            d: tuple(v.procedures)
            for d, v in section.special_openings.items()
            if not isinstance(v, str)
        },
    )
    categories = []
    for c in spec.categories:
        serving = sum(1 for counter in spec.counters if c.id in counter.categories)
        start, _, end = c.numbers.partition("-")
        categories.append(
            Category(
                id=c.id,
                names=c.names.as_map(),
                prefix=c.prefix,
                number_start=int(start),
                number_end=int(end),
                fee=c.fee,
                daily_cap=c.daily_cap,
                service_minutes=c.service_minutes,
                last_reception=parse_time(c.last_reception) if c.last_reception else None,
                waiting_area=c.waiting_area.as_map() if c.waiting_area else {},
                forms=c.forms(),
                reservable=c.reservable,
                reservation=_reservation_rule(c, serving) if c.reservable else None,
            )
        )
    counters = tuple(
        Counter(
            id=c.id,
            number=c.number,
            names=c.names.as_map()
            if c.names
            else {"ja": f"{c.number}番窓口", "en": f"Counter {c.number}"},
            categories=tuple(c.categories),
        )
        for c in spec.counters
    )
    try:
        day_close = parse_time(section.day_close) if section.day_close else None
    except ValueError as exc:
        raise InvalidConfiguration(f"office file: office.day_close: {exc}") from exc
    return Office(
        id=section.id,
        names=section.names.as_map(),
        timezone=section.timezone,
        languages=tuple(section.languages),
        congestion=spec.congestion.thresholds(),
        calendar=calendar,
        day_close=day_close,
        categories=tuple(categories),
        counters=counters,
        printers=tuple(PrinterConfig(p.id, p.name, p.url, p.profile) for p in spec.printers),
    )


#: Tables and arrays nest at most this deep in an office file (a valid one needs 4).
MAX_DEPTH = 8


def _depth(value: Any, level: int = 0) -> int:
    """How deeply tables and arrays nest in `value` (stops counting past `MAX_DEPTH`)."""
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return level
    return max((_depth(v, level + 1) for v in children), default=level + 1)


def parse_office_text(text: str, where: str = "office file") -> dict[str, Any]:
    """TOML text to a raw office mapping; bad syntax or absurd nesting is `InvalidConfiguration`."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidConfiguration(f"{where}: not a TOML file: {exc}") from exc
    except RecursionError:  # thousands of nested brackets: the parser gives up before we can
        raise InvalidConfiguration(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    if _depth(raw) > MAX_DEPTH:
        raise InvalidConfiguration(f"{where}: nested deeper than {MAX_DEPTH} levels")
    return raw


def read_office_file(path: Path) -> dict[str, Any]:
    """Parse a TOML office file; a syntax error becomes `InvalidConfiguration`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidConfiguration(f"{path}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidConfiguration(f"{path}: not UTF-8 text") from exc
    return parse_office_text(text, str(path))


def around_the_clock(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of an office file that opens every day, all day (for `madoguchi demo`)."""
    office = dict(raw["office"])
    office["hours"] = {day: "00:00-24:00" for day in _WEEKDAYS}
    office["holidays"] = None
    office["year_end_closure"] = False
    office["closed_dates"] = {}
    office["day_close"] = None
    categories = [{k: v for k, v in c.items() if k != "last_reception"} for c in raw["categories"]]
    return {**raw, "office": office, "categories": categories}
