"""Reservable slots and capacity from the office file: lunch, holidays, 年末年始, special
openings, the day rollover, full slots, check-in windows and short codes."""

from __future__ import annotations

import copy
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.domain.errors import InvalidConfiguration
from queue_server.domain.office import Office
from queue_server.domain.reservations import (
    CheckInTooEarly,
    CheckInTooLate,
    NotReservable,
    SlotFull,
    SlotUnavailable,
    bookable_days,
    capacity_from_share,
    check_bookable,
    check_in,
    is_no_show,
    normalise_short_code,
    offers,
    rule_of,
    slots_on,
)

TOKYO = ZoneInfo("Asia/Tokyo")
RAW = read_office_file(DEMO_OFFICE)
OFFICE = parse_office(RAW)
MYNUMBER = OFFICE.category("mynumber")
THURSDAY = date(2026, 11, 26)


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=TOKYO)


def office_with(**reservation: object) -> Office:
    raw = copy.deepcopy(RAW)
    category = next(c for c in raw["categories"] if c["id"] == "mynumber")
    category["reservation"] = {**category["reservation"], **reservation}
    return parse_office(raw)


class TestSlots:
    def test_slots_fill_the_reservable_hours_and_stop_at_lunch(self) -> None:
        slots = slots_on(OFFICE, MYNUMBER, THURSDAY)
        starts = [s.start.time() for s in slots]
        assert starts[0] == time(9, 0)
        # The last slot before lunch ends at 12:00; none straddles the lunch break.
        assert time(11, 30) in starts and time(12, 0) not in starts
        assert time(12, 30) not in starts and time(13, 0) in starts
        assert all(s.end - s.start == timedelta(minutes=30) for s in slots)
        assert slots[-1].end.time() == time(16, 30)
        assert {s.capacity for s in slots} == {2}

    def test_a_slot_that_would_end_after_the_hours_is_not_offered(self) -> None:
        office = office_with(hours=["09:00-11:45"], slot_minutes=30)
        slots = slots_on(office, office.category("mynumber"), THURSDAY)
        assert slots[-1].start.time() == time(11, 0)
        assert slots[-1].end.time() == time(11, 30)

    def test_reservable_hours_are_cut_to_the_days_opening_hours(self) -> None:
        office = office_with(hours=["08:00-10:00"])
        slots = slots_on(office, office.category("mynumber"), THURSDAY)
        # The office opens at 08:30: slots start there, not at 08:00.
        assert [s.start.time() for s in slots] == [time(8, 30), time(9, 0), time(9, 30)]

    def test_a_public_holiday_has_no_slots(self) -> None:
        assert slots_on(OFFICE, MYNUMBER, date(2026, 11, 23)) == []  # 勤労感謝の日

    def test_the_year_end_closure_and_weekends_have_no_slots(self) -> None:
        assert slots_on(OFFICE, MYNUMBER, date(2026, 12, 29)) == []
        assert slots_on(OFFICE, MYNUMBER, date(2027, 1, 3)) == []
        assert slots_on(OFFICE, MYNUMBER, date(2026, 11, 28)) == []  # Saturday
        assert slots_on(OFFICE, MYNUMBER, date(2027, 1, 4)) != []

    def test_a_closed_date_has_no_slots(self) -> None:
        raw = copy.deepcopy(RAW)
        raw["office"]["closed_dates"] = {THURSDAY: "システム更新"}
        office = parse_office(raw)
        assert slots_on(office, office.category("mynumber"), THURSDAY) == []

    def test_a_special_opening_on_a_sunday_has_the_slots_that_fit(self) -> None:
        sunday = date(2027, 3, 28)  # 休日開庁 09:00-12:00 in the demo office
        starts = [s.start.time() for s in slots_on(OFFICE, MYNUMBER, sunday)]
        assert starts == [
            time(9, 0),
            time(9, 30),
            time(10, 0),
            time(10, 30),
            time(11, 0),
            time(11, 30),
        ]

    def test_a_procedure_can_refuse_bookings_on_special_openings(self) -> None:
        office = office_with(on_special_openings=False)
        assert slots_on(office, office.category("mynumber"), date(2027, 3, 28)) == []

    def test_a_special_opening_for_some_procedures_has_no_slots_for_the_others(self) -> None:
        sunday = date(2027, 3, 28)
        raw = copy.deepcopy(RAW)
        raw["office"]["special_openings"] = {
            "2027-03-28": {"hours": "09:00-12:00", "procedures": ["moving"]}
        }
        office = parse_office(raw)
        assert slots_on(office, office.category("mynumber"), sunday) == []
        moving = office.category("moving")
        assert office.reception_closed_reason(moving, at(sunday, 10)) is None
        assert office.reception_closed_reason(MYNUMBER, at(sunday, 10)) == "closed_day"
        assert office.calendar.offers(THURSDAY, "mynumber")  # other days are untouched

    def test_a_special_opening_naming_an_unknown_procedure_is_refused(self) -> None:
        raw = copy.deepcopy(RAW)
        raw["office"]["special_openings"] = {
            "2027-03-28": {"hours": "09:00-12:00", "procedures": ["passports"]}
        }
        with pytest.raises(InvalidConfiguration, match="unknown procedure"):
            parse_office(raw)

    def test_last_reception_ends_the_slots(self) -> None:
        # mynumber's last reception is 16:30: a 16:30 slot would start after it.
        office = office_with(hours=["13:00-17:15"])
        slots = slots_on(office, office.category("mynumber"), THURSDAY)
        assert slots[-1].start.time() == time(16, 0)

    def test_a_procedure_without_reservations_refuses(self) -> None:
        with pytest.raises(NotReservable):
            slots_on(OFFICE, OFFICE.category("certificates"), THURSDAY)


class TestCapacity:
    def test_capacity_from_the_share_of_counter_time(self) -> None:
        # 2 counters x 30 minutes x 50% / 15 minutes a service = 2 bookings a slot
        assert capacity_from_share(0.5, 2, 30, 15.0) == 2
        assert capacity_from_share(0.1, 1, 30, 15.0) == 1  # a positive share books at least one
        assert capacity_from_share(0.5, 0, 30, 15.0) == 0

    def test_the_office_file_takes_a_share_instead_of_a_count(self) -> None:
        raw = copy.deepcopy(RAW)
        category = next(c for c in raw["categories"] if c["id"] == "mynumber")
        reservation = dict(category["reservation"])
        del reservation["per_slot"]
        category["reservation"] = {**reservation, "counter_share": 1.0, "slot_minutes": 60}
        office = parse_office(raw)
        serving = sum(1 for c in office.counters if "mynumber" in c.categories)
        assert rule_of(office.category("mynumber")).per_slot == serving * 60 // 15

    def test_per_slot_and_share_together_are_refused(self) -> None:
        raw = copy.deepcopy(RAW)
        category = next(c for c in raw["categories"] if c["id"] == "mynumber")
        category["reservation"] = {**category["reservation"], "counter_share": 0.5}
        with pytest.raises(InvalidConfiguration, match="per_slot or counter_share"):
            parse_office(raw)

    def test_the_full_slot_refuses_one_more(self) -> None:
        now = at(THURSDAY, 8, 0)
        start = at(THURSDAY, 10, 0)
        assert check_bookable(OFFICE, MYNUMBER, start, 1, now).start == start
        with pytest.raises(SlotFull):
            check_bookable(OFFICE, MYNUMBER, start, 2, now)

    def test_offers_count_what_is_left(self) -> None:
        now = at(THURSDAY, 8, 0)
        day = offers(
            OFFICE, MYNUMBER, THURSDAY, {at(THURSDAY, 9, 0): 2, at(THURSDAY, 9, 30): 1}, now
        )
        assert (day[0].left, day[0].bookable) == (0, False)
        assert (day[1].left, day[1].bookable) == (1, True)
        assert (day[2].left, day[2].bookable) == (2, True)

    def test_a_time_that_is_not_a_slot_start_is_refused(self) -> None:
        with pytest.raises(SlotUnavailable):
            check_bookable(OFFICE, MYNUMBER, at(THURSDAY, 10, 15), 0, at(THURSDAY, 8))
        with pytest.raises(SlotUnavailable):  # lunch
            check_bookable(OFFICE, MYNUMBER, at(THURSDAY, 12, 0), 0, at(THURSDAY, 8))

    def test_slots_inside_the_lead_time_or_past_are_closed(self) -> None:
        now = at(THURSDAY, 9, 10)  # lead time 60 minutes
        day = {o.slot.start.time(): o.open for o in offers(OFFICE, MYNUMBER, THURSDAY, {}, now)}
        assert day[time(9, 0)] is False and day[time(10, 0)] is False
        assert day[time(10, 30)] is True
        with pytest.raises(SlotUnavailable):
            check_bookable(OFFICE, MYNUMBER, at(THURSDAY, 10, 0), 0, now)

    def test_the_horizon_limits_how_far_ahead(self) -> None:
        office = office_with(days_ahead=7)
        category = office.category("mynumber")
        days = bookable_days(office, category, at(THURSDAY, 8))
        assert days[0] == THURSDAY and days[-1] <= THURSDAY + timedelta(days=7)
        with pytest.raises(SlotUnavailable):
            check_bookable(office, category, at(date(2026, 12, 7), 10), 0, at(THURSDAY, 8))


class TestDayRollover:
    def test_days_are_local_dates_not_utc(self) -> None:
        # 23:30 UTC on Wednesday is 08:30 on Thursday in Tokyo: Thursday is "today".
        now = datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("UTC"))
        days = bookable_days(OFFICE, MYNUMBER, now)
        assert days[0] == THURSDAY

    def test_after_the_last_slot_today_is_no_longer_bookable(self) -> None:
        days = bookable_days(OFFICE, MYNUMBER, at(THURSDAY, 15, 45))
        assert THURSDAY not in days
        assert days[0] == date(2026, 11, 27)  # Friday

    def test_just_before_midnight_the_next_morning_is_bookable(self) -> None:
        now = at(date(2026, 11, 26), 23, 59)
        first = offers(OFFICE, MYNUMBER, date(2026, 11, 27), {}, now)[0]
        assert first.slot.start == at(date(2026, 11, 27), 9, 0) and first.bookable

    def test_slot_starts_are_in_the_office_zone(self) -> None:
        slot = slots_on(OFFICE, MYNUMBER, THURSDAY)[0]
        assert slot.start.utcoffset() == timedelta(hours=9)
        assert slot.day == THURSDAY


class TestCheckIn:
    RULE = rule_of(MYNUMBER)  # early 30, grace 15
    SLOT = at(THURSDAY, 10, 0)

    def test_early_within_the_window(self) -> None:
        check_in(self.RULE, self.SLOT, at(THURSDAY, 9, 30))
        with pytest.raises(CheckInTooEarly):
            check_in(self.RULE, self.SLOT, at(THURSDAY, 9, 29))

    def test_late_within_the_grace(self) -> None:
        check_in(self.RULE, self.SLOT, at(THURSDAY, 10, 14))
        with pytest.raises(CheckInTooLate):
            check_in(self.RULE, self.SLOT, at(THURSDAY, 10, 15))

    def test_no_show_after_the_grace(self) -> None:
        assert not is_no_show(self.RULE, self.SLOT, at(THURSDAY, 10, 14))
        assert is_no_show(self.RULE, self.SLOT, at(THURSDAY, 10, 15))


class TestShortCode:
    @pytest.mark.parametrize(
        "typed", ["K7MQ-4RXA", "k7mq4rxa", " k7mq 4rxa ", "Ｋ７ＭＱ－４ＲＸＡ"]
    )
    def test_typed_or_read_codes_normalise(self, typed: str) -> None:
        assert normalise_short_code(typed) == "K7MQ-4RXA"
