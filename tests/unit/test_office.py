"""Office calendar, business dates in Asia/Tokyo, and office-file validation."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_server.adapters.office_file import (
    DEMO_OFFICE,
    around_the_clock,
    parse_office,
    read_office_file,
)
from queue_server.domain.congestion import LampThresholds
from queue_server.domain.errors import InvalidConfiguration

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture(scope="module")
def raw() -> dict:
    return read_office_file(DEMO_OFFICE)


def test_demo_office_is_a_realistic_citizens_division(raw: dict) -> None:
    office = parse_office(raw)
    assert len(office.counters) >= 6
    names = {c.names["ja"] for c in office.categories}
    assert {
        "住民票・印鑑証明",
        "戸籍",
        "転入・転出",
        "国保・年金",
        "税証明",
        "マイナンバーカード",
    } <= names
    for category in office.categories:
        assert set(category.names) == {"ja", "en", "zh-Hans", "ko", "vi", "pt", "ja-easy"}


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 11, 23), "勤労感謝の日"),  # public holiday (Monday)
        (date(2026, 11, 28), "閉庁日"),  # Saturday
        (date(2026, 12, 29), "年末年始"),
        (date(2027, 1, 3), "年末年始"),
        (date(2027, 1, 11), "成人の日"),
        (date(2026, 11, 26), None),
    ],
)
def test_closed_days(raw: dict, day: date, reason: str | None) -> None:
    assert parse_office(raw).calendar.closed_reason(day) == reason


def test_special_opening_on_a_sunday(raw: dict) -> None:
    office = parse_office(raw)
    assert office.calendar.hours_on(date(2027, 3, 28)) is not None
    assert office.is_open(datetime(2027, 3, 28, 10, 0, tzinfo=TOKYO))
    assert not office.is_open(datetime(2027, 3, 28, 13, 0, tzinfo=TOKYO))


def test_business_date_is_local_not_utc(raw: dict) -> None:
    office = parse_office(raw)
    # 00:30 in Tokyo is still the previous day in UTC.
    moment = datetime(2026, 11, 27, 0, 30, tzinfo=TOKYO)
    assert moment.astimezone(ZoneInfo("UTC")).date() == date(2026, 11, 26)
    assert office.business_date(moment) == date(2026, 11, 27)


def test_hours_and_last_reception(raw: dict) -> None:
    office = parse_office(raw)
    mynumber = office.category("mynumber")
    assert mynumber.last_reception == time(16, 30)
    assert (
        office.reception_closed_reason(mynumber, datetime(2026, 11, 26, 16, 45, tzinfo=TOKYO))
        == "reception_ended"
    )
    certificates = office.category("certificates")
    assert (
        office.reception_closed_reason(certificates, datetime(2026, 11, 26, 16, 45, tzinfo=TOKYO))
        is None
    )
    assert (
        office.reception_closed_reason(certificates, datetime(2026, 11, 26, 8, 0, tzinfo=TOKYO))
        == "outside_hours"
    )
    assert (
        office.reception_closed_reason(certificates, datetime(2026, 11, 28, 10, 0, tzinfo=TOKYO))
        == "closed_day"
    )


def test_around_the_clock_is_always_open(raw: dict) -> None:
    office = parse_office(around_the_clock(raw))
    assert office.is_open(datetime(2027, 1, 1, 23, 59, tzinfo=TOKYO))
    assert office.day_close is None


def test_display_number_is_padded_to_the_range() -> None:
    office = parse_office(read_office_file(DEMO_OFFICE))
    assert office.category("certificates").display_number(7) == "A-007"
    assert office.category("mynumber").display_number(12) == "F-012"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r["categories"][0]["names"].pop("vi"), "lacks names in: vi"),
        (lambda r: r["counters"][0].update(categories=["nope"]), "serves unknown nope"),
        (lambda r: r["office"].update(timezone="Mars/Base"), "unknown time zone"),
        (lambda r: r["office"]["hours"].update(mon="17:00-08:00"), "ends before it starts"),
        (lambda r: r["categories"][1].update(prefix="A"), "prefixes must be unique"),
        (lambda r: r["categories"][0].update(daily_cap=10000), "exceeds its number range"),
        (lambda r: r["categories"][0].update(colour="red"), "Extra inputs are not permitted"),
        (lambda r: r["office"].update(languages=["ja", "fr"]), "unknown language"),
        (lambda r: r["office"].update(languages=["en"]), "Japanese .ja. is always offered"),
        (
            lambda r: (
                r["office"].update(languages=["ja", "en"]),
                r["categories"][2]["names"].pop("en"),
            ),
            "lacks names in: en",
        ),
    ],
)
def test_invalid_office_files_are_refused_with_a_clear_message(mutate, message: str) -> None:
    import copy

    raw = copy.deepcopy(read_office_file(DEMO_OFFICE))
    mutate(raw)
    with pytest.raises(InvalidConfiguration, match=message):
        parse_office(raw)


def test_an_office_offering_japanese_and_english_needs_names_in_those_only() -> None:
    import copy

    raw = copy.deepcopy(read_office_file(DEMO_OFFICE))
    raw["office"]["languages"] = ["en", "ja", "en"]
    for section in (raw["office"], *raw["categories"]):
        section["names"] = {k: v for k, v in section["names"].items() if k in ("ja", "en")}
    office = parse_office(raw)
    assert office.languages == ("ja", "en")
    assert set(office.category("mynumber").names) == {"ja", "en"}
    assert parse_office(read_office_file(DEMO_OFFICE)).languages == (
        "ja",
        "en",
        "zh-Hans",
        "ko",
        "vi",
        "pt",
        "ja-easy",
    )


class TestCongestionSetting:
    def test_without_a_congestion_table_the_lamp_keeps_its_defaults(self) -> None:
        office = parse_office(read_office_file(DEMO_OFFICE))
        assert office.congestion == LampThresholds(minutes=(20, 45), people=(5, 15))

    def test_the_office_file_sets_both_pairs(self) -> None:
        import copy

        raw = copy.deepcopy(read_office_file(DEMO_OFFICE))
        raw["congestion"] = {"minutes": [15, 30], "people": [3, 8]}
        office = parse_office(raw)
        assert office.congestion == LampThresholds(minutes=(15, 30), people=(3, 8))
        raw["congestion"] = {"people": [10, 25]}  # minutes keep their default
        assert parse_office(raw).congestion == LampThresholds(minutes=(20, 45), people=(10, 25))

    @pytest.mark.parametrize(
        ("congestion", "message"),
        [
            ({"people": [15, 5]}, r"congestion\.people: .*two people waiting thresholds"),
            ({"people": [5]}, r"congestion\.people: .*the yellow one then a higher red one"),
            ({"minutes": [0, 45]}, r"congestion\.minutes: .*two wait \(minutes\) thresholds"),
            ({"minutes": [20, 20]}, r"congestion\.minutes"),
            ({"minutes": [20, 45, 60]}, r"congestion\.minutes"),
            ({"people": ["5", 15]}, r"congestion\.people"),
            ({"colours": ["blue"]}, r"congestion\.colours: Extra inputs are not permitted"),
        ],
    )
    def test_bad_thresholds_are_refused_with_a_clear_message(
        self, congestion: dict, message: str
    ) -> None:
        import copy

        raw = copy.deepcopy(read_office_file(DEMO_OFFICE))
        raw["congestion"] = congestion
        with pytest.raises(InvalidConfiguration, match=message):
            parse_office(raw)


def test_toml_syntax_error_is_reported_with_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "office.toml"
    bad.write_text("[office\nid = 1", encoding="utf-8")
    with pytest.raises(InvalidConfiguration, match=r"office\.toml"):
        read_office_file(bad)
