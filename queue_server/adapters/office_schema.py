"""The small parts of the office file's schema: times and ranges, names in the visitor
languages, special openings, a procedure's booking rule and the congestion lamp. The file itself
(offices, procedures, counters) is `office_file`."""

from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from queue_server.domain.congestion import DEFAULT_LAMP, LampThresholds
from queue_server.domain.office import LANGUAGES, TimeRange

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


def parse_time(text: str) -> time:
    if text == "24:00":
        return time.max
    try:
        return time.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a time like 08:30") from exc


def parse_range(text: str) -> TimeRange:
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a range like 08:30-17:15")
    parsed = TimeRange(parse_time(start.strip()), parse_time(end.strip()))
    if parsed.end <= parsed.start:
        raise ValueError(f"{text!r} ends before it starts")
    return parsed


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(Model):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    ja: str = Field(min_length=1)
    en: str | None = None
    zh_hans: str | None = Field(default=None, alias="zh-Hans")
    ko: str | None = None
    vi: str | None = None
    pt: str | None = None
    ja_easy: str | None = Field(default=None, alias="ja-easy")

    def as_map(self) -> dict[str, str]:
        values = self.model_dump(by_alias=True)
        return {lang: values[lang] for lang in LANGUAGES if values.get(lang)}


class SpecialOpening(Model):
    hours: str
    procedures: list[Identifier] = Field(min_length=1)


class ReservationSection(Model):
    slot_minutes: int = Field(default=30, ge=5, le=240)
    # Capacity: either bookings per slot, or the share of the serving counters' time.
    per_slot: int | None = Field(default=None, ge=1)
    counter_share: float | None = Field(default=None, gt=0, le=1)
    hours: list[str] = Field(default_factory=list)
    days_ahead: int = Field(default=30, ge=0, le=366)
    lead_minutes: int = Field(default=60, ge=0)
    on_special_openings: bool = True
    early_minutes: int = Field(default=30, ge=0, le=240)
    grace_minutes: int = Field(default=15, ge=0, le=240)

    @field_validator("hours")
    @classmethod
    def _ranges(cls, value: list[str]) -> list[str]:
        for text in value:
            parse_range(text)
        return value

    @model_validator(mode="after")
    def _one_capacity(self) -> ReservationSection:
        if self.per_slot is not None and self.counter_share is not None:
            raise ValueError("give per_slot or counter_share, not both")
        return self


def _two_rising(value: list[int], unit: str) -> list[int]:
    if len(value) != 2 or not 0 < value[0] < value[1]:
        raise ValueError(
            f"give two {unit} thresholds, the yellow one then a higher red one, like [5, 15]"
        )
    return value


class CongestionSection(Model):
    """The lamp: yellow from the first threshold, red from the second (minutes or people)."""

    minutes: list[StrictInt] = Field(default_factory=lambda: list(DEFAULT_LAMP.minutes))
    people: list[StrictInt] = Field(default_factory=lambda: list(DEFAULT_LAMP.people))

    @field_validator("minutes")
    @classmethod
    def _minutes(cls, value: list[int]) -> list[int]:
        return _two_rising(value, "wait (minutes)")

    @field_validator("people")
    @classmethod
    def _people(cls, value: list[int]) -> list[int]:
        return _two_rising(value, "people waiting")

    def thresholds(self) -> LampThresholds:
        return LampThresholds(
            minutes=(self.minutes[0], self.minutes[1]), people=(self.people[0], self.people[1])
        )
