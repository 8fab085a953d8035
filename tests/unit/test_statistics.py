"""Statistics from the transition log (pure), and the office file written back as TOML."""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta

from tests_constants import TOKYO

from queue_server.adapters.office_file import DEMO_OFFICE, read_office_file
from queue_server.adapters.office_toml import dumps
from queue_server.service.statistics import Statistics, Transition, csv_text

DAY = date(2026, 11, 26)


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 26, hour, minute, tzinfo=TOKYO)


class FakeStatisticsStore:
    def __init__(self, rows: list[Transition]) -> None:
        self.rows = rows

    def transitions(self, first: date, last: date) -> list[Transition]:
        return [r for r in self.rows if first <= r.at.astimezone(TOKYO).date() <= last]


def log(ticket: int, *steps: tuple[str, str, datetime, str | None]) -> list[Transition]:
    return [
        Transition(ticket, f"A-{ticket:03d}", action, state, when, "certificates", counter, actor)
        for action, state, when, counter in [(a, s, w, c) for a, s, w, c in steps]
        for actor in ["staff:suzuki" if counter else "device:kiosk-1"]
    ]


ROWS = [
    *log(
        1,
        ("issue", "issued", at(9, 0), None),
        ("call", "called", at(9, 10), "c1"),
        ("start", "serving", at(9, 11), "c1"),
        ("finish", "done", at(9, 15), "c1"),
    ),
    *log(
        2,
        ("issue", "issued", at(9, 5), None),
        ("call", "called", at(9, 25), "c1"),
        ("no-show", "no_show", at(9, 30), "c1"),
    ),
    *log(3, ("issue", "issued", at(9, 50), None)),
]


def test_report_by_category_measures_waits_services_no_shows_and_idle() -> None:
    stats = Statistics(FakeStatisticsStore(ROWS), TOKYO)
    [row] = stats.report(DAY, DAY, "category")
    assert row["category"] == "certificates"
    assert (row["issued"], row["called"], row["served"], row["no_shows"]) == (3, 2, 1, 1)
    assert row["wait_mean_minutes"] == 15.0 and row["wait_median_minutes"] == 15.0
    assert row["service_mean_minutes"] == 4.0
    [clerk] = stats.report(DAY, DAY, "clerk")
    assert clerk["clerk"] == "suzuki" and clerk["idle_minutes"] == 10.0  # 9:15 -> 9:25


def test_hourly_open_data_counts_people_waiting_at_the_end_of_each_hour() -> None:
    stats = Statistics(FakeStatisticsStore(ROWS), TOKYO)
    rows = stats.hourly(DAY, DAY, now=at(11, 30))
    by_hour = {r["hour"]: r for r in rows}
    assert by_hour[9]["issued"] == 3 and by_hour[9]["waiting_at_hour_end"] == 1
    assert by_hour[10]["waiting_at_hour_end"] == 1 and 11 not in by_hour  # hour not over yet
    assert set(rows[0]) == {
        "date", "hour", "category_id", "issued", "waiting_at_hour_end",
        "wait_mean_minutes", "wait_median_minutes",
    }  # fmt: skip


def test_typical_congestion_averages_over_days_with_tickets() -> None:
    later = [
        Transition(9, "A-009", "issue", "issued", at(9, 0) + timedelta(days=7), "tax", None, None)
    ]
    stats = Statistics(FakeStatisticsStore(ROWS + later), TOKYO)
    typical = stats.typical(DAY + timedelta(days=8))
    assert typical["cells"] == [{"weekday": 3, "hour": 9, "mean_issued": 2.0}]


def test_console_finds_the_counter_ticket_and_the_no_shows() -> None:
    rows = [
        *ROWS,
        *log(4, ("issue", "issued", at(10, 0), None), ("call", "called", at(10, 1), "c1")),
    ]
    found = Statistics(FakeStatisticsStore(rows), TOKYO).console(DAY, "c1", "suzuki")
    assert found["current_ids"] == [4]
    assert found["no_shows"] == [{"id": 2, "number": "A-002", "category_id": "certificates"}]
    assert found["mine"]["called"] == 3


def test_csv_has_a_header_and_empty_fields_for_missing_values() -> None:
    assert csv_text([{"a": 1, "b": None}], ("a", "b")) == "a,b\r\n1,\r\n"


def test_office_file_round_trips_through_toml() -> None:
    raw = read_office_file(DEMO_OFFICE)
    assert tomllib.loads(dumps(raw, header="x")) == raw
