"""The slip model: what a slip says, in which language, from the server's ticket JSON."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta, timezone

import pytest

from printer.errors import SlipDataError
from printer.slip import (
    Slip,
    WaitEstimate,
    format_issued,
    format_wait,
    sample_slip,
    slip_from_ticket,
)
from printer.texts import Language, texts_for

TICKET = {
    "number": "B-034",
    "issued_at": "2026-11-27T00:31:00+00:00",
    "ahead": 4,
    "estimated_wait_minutes": 15,
    "estimate_low_minutes": 10,
    "estimate_high_minutes": 25,
    "status_url": "https://madoguchi.example.jp/t/AbCdEf123456",
}
NAMES = {"ja": "転入届", "en": "Moving-in notification", "vi": "Thông báo chuyển đến"}


class TestWaitText:
    def test_point_and_interval_in_japanese(self) -> None:
        assert format_wait(WaitEstimate(15, 10, 25), Language.JA) == "約15分（10〜25分）"

    def test_point_only_when_interval_is_incomplete(self) -> None:
        assert format_wait(WaitEstimate(15, 10, None), Language.JA) == "約15分"

    def test_unknown_wait_says_so_instead_of_zero(self) -> None:
        assert format_wait(None, Language.JA) == "ただいま表示できません"
        assert format_wait(None, Language.EN) == "not available yet"

    def test_english_form(self) -> None:
        assert format_wait(WaitEstimate(5, 0, 10), Language.EN) == "about 5 min (0-10 min)"

    def test_inverted_or_negative_interval_is_rejected(self) -> None:
        with pytest.raises(SlipDataError, match="E-PRN-10"):
            WaitEstimate(15, 25, 10)
        with pytest.raises(SlipDataError):
            WaitEstimate(-1)


class TestIssueTime:
    def test_shown_in_tokyo_time(self) -> None:
        assert format_issued(datetime(2026, 11, 27, 0, 31, tzinfo=UTC)) == "2026年11月27日 09:31"

    def test_local_date_rolls_over_before_utc(self) -> None:
        late_utc = datetime(2026, 11, 27, 15, 5, tzinfo=UTC)
        assert format_issued(late_utc) == "2026年11月28日 00:05"

    def test_naive_time_is_refused(self) -> None:
        with pytest.raises(SlipDataError, match="timezone-aware"):
            Slip("x", "A-001", "転入届", datetime(2026, 11, 27, 9, 31), "https://e.example/t/1")


class TestContent:
    def test_japanese_slip_has_no_second_language(self) -> None:
        content = sample_slip(Language.JA).content()
        assert content.number_label.local is None
        assert content.procedure.local is None
        assert all(line.local is None for line in content.details)
        assert content.notice.ja == "番号が呼ばれるまでお待ちください"

    @pytest.mark.parametrize("language", [lang for lang in Language if lang is not Language.JA])
    def test_every_other_language_adds_its_own_lines(self, language: Language) -> None:
        content = sample_slip(language).content()
        texts = texts_for(language)
        assert content.number_label.local == texts.number_label
        assert content.scan.local == texts.scan
        assert content.notice.local == texts.notice
        assert content.procedure.local  # the visitor's name for the procedure

    def test_details_in_order_with_place(self) -> None:
        details = sample_slip(Language.EN).content().details
        assert [d.ja for d in details] == [
            "前にお待ちの方：3人",
            "待ち時間の目安：約15分（10〜25分）",
            "お待ちの場所：1階 市民課前ロビー",
        ]
        assert details[2].local == "Please wait at: 1F, lobby in front of the Citizens Division"

    def test_issued_line(self) -> None:
        assert sample_slip().content().issued == "2026年11月27日 09:31 発行"


class TestTextTable:
    def test_every_language_has_every_string(self) -> None:
        for language in Language:
            texts = texts_for(language)
            assert all(getattr(texts, f) for f in texts.__slots__), language

    def test_placeholders_are_the_ones_slip_fills(self) -> None:
        expected = {"ahead": {"n"}, "wait_interval": {"lo", "hi"}}
        for language in Language:
            texts = texts_for(language)
            for name, fields in expected.items():
                found = {f for _, f, _, _ in string.Formatter().parse(getattr(texts, name)) if f}
                assert fields <= found <= fields | {"counter"}, (texts, name)

    @pytest.mark.parametrize(
        ("wait", "easy"),
        [
            (WaitEstimate(15, 10, 25), "だいたい 15ふん（10〜25ふん）"),
            (WaitEstimate(6, 3, 10), "だいたい 6ぷん（3〜10ぷん）"),
            (WaitEstimate(8), "だいたい 8ぷん"),
        ],
    )
    def test_minutes_are_read_by_the_one_catalogue_rule(
        self, wait: WaitEstimate, easy: str
    ) -> None:
        assert format_wait(wait, Language.JA_EASY) == easy
        assert format_wait(WaitEstimate(15, 10, 25), Language.JA) == "約15分（10〜25分）"


class TestFromTicket:
    def test_maps_the_server_json(self) -> None:
        slip = slip_from_ticket(TICKET, "サンプル市役所", NAMES, "vi", "2階 ロビー")
        assert slip.number == "B-034"
        assert slip.procedure_ja == "転入届"
        assert slip.procedure_local == "Thông báo chuyển đến"
        assert slip.language is Language.VI
        assert slip.people_ahead == 4
        assert slip.wait == WaitEstimate(15, 10, 25)
        assert slip.issued_at == datetime(2026, 11, 27, 9, 31, tzinfo=timezone(timedelta(hours=9)))
        assert slip.status_url == TICKET["status_url"]
        assert slip.waiting_area == "2階 ロビー"

    def test_missing_estimate_gives_unknown_wait(self) -> None:
        ticket = {**TICKET, "estimated_wait_minutes": None}
        slip = slip_from_ticket(ticket, "x", NAMES, "ja")
        assert slip.wait is None
        assert slip.procedure_local is None

    def test_language_without_a_category_name_keeps_japanese_only(self) -> None:
        assert slip_from_ticket(TICKET, "x", NAMES, "ko").procedure_local is None

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"number": None}, "number is missing"),
            ({"status_url": ""}, "status_url is missing"),
            ({"issued_at": "yesterday"}, "ISO 8601"),
            ({"issued_at": "2026-11-27T09:31:00"}, "UTC offset"),
            ({"ahead": "many"}, "ahead is not a number"),
            ({"estimated_wait_minutes": True}, "not a number"),
        ],
    )
    def test_bad_ticket_data_is_refused_with_a_code(
        self, change: dict[str, object], message: str
    ) -> None:
        with pytest.raises(SlipDataError, match=message) as info:
            slip_from_ticket({**TICKET, **change}, "x", NAMES, "ja")
        assert info.value.code == "E-PRN-10"

    def test_unknown_language_is_refused(self) -> None:
        with pytest.raises(SlipDataError, match="unknown language"):
            slip_from_ticket(TICKET, "x", NAMES, "fr")
