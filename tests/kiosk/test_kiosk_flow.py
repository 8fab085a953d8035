"""The pure visitor flow: taps, idle wipe, closures, codes; and the translation table."""

from __future__ import annotations

import pytest

import visitor_text
from kiosk_app.flow import (
    LANGUAGES,
    Flow,
    IssueTicket,
    Notice,
    Preferences,
    Prefill,
    Printing,
    PrintTicket,
    Screen,
    Timeouts,
    VerifyCode,
)
from kiosk_app.i18n import LANGUAGE_NAMES, notice_text, speakable_number, text, wait_text
from kiosk_app.speech import speech_for

OFFICE = {
    "open": True,
    "hours_today": "08:30-17:15",
    "names": {"ja": "白川市役所 市民課"},
    "categories": [
        {"id": "certificates", "names": {"ja": "住民票", "en": "Certificates"}, "open_now": True},
        {
            "id": "tax",
            "names": {"ja": "税証明", "en": "Tax"},
            "open_now": False,
            "closed_reason": "reception_ended",
        },
    ],
}
TICKET = {"id": 7, "number": "A-003", "category_id": "certificates", "status_url": "http://x/t/p"}


def ready_flow() -> Flow:
    flow = Flow(Timeouts(idle=60, ticket=30, notice=30, warning=10), now=0)
    flow.office_loaded(OFFICE)
    return flow


class TestPlainTicket:
    def test_a_plain_ticket_takes_two_taps_after_the_language(self) -> None:
        flow = ready_flow()
        flow.choose_language("en", 1)
        assert flow.state.screen is Screen.PROCEDURES
        flow.choose_category("certificates", 2)
        commands = flow.confirm(3)
        assert commands == [IssueTicket("certificates", "en", "normal", None)]
        assert flow.state.taps == 2
        printing = flow.ticket_issued(TICKET, 4)
        assert flow.state.screen is Screen.TICKET and flow.state.printing is Printing.PENDING
        assert isinstance(printing[0], PrintTicket) and printing[0].ticket["number"] == "A-003"

    def test_asking_for_help_issues_an_assistance_ticket(self) -> None:
        flow = ready_flow()
        flow.choose_language("ja", 1)
        flow.choose_category("certificates", 2)
        flow.toggle_assistance(3)
        assert flow.confirm(4)[0].priority == "assistance"  # type: ignore[union-attr]

    def test_a_failed_print_keeps_the_number_on_screen(self) -> None:
        flow = ready_flow()
        flow.choose_language("ja", 1)
        flow.choose_category("certificates", 2)
        flow.confirm(3)
        flow.ticket_issued(TICKET, 4)
        flow.print_finished(False, 5)
        assert flow.state.screen is Screen.TICKET and flow.state.printing is Printing.FAILED
        assert flow.state.ticket is not None and flow.state.ticket["number"] == "A-003"


class TestIdle:
    def test_idle_visitor_is_wiped_back_to_the_start(self) -> None:
        flow = ready_flow()
        flow.choose_language("vi", 1)
        flow.set_preferences(Preferences(large_text=True, voice=True), 2)
        flow.choose_category("certificates", 3)
        assert not flow.tick(62)
        assert flow.warning_due(55)
        assert flow.tick(63.5)
        state = flow.state
        assert (state.screen, state.language, state.category_id) == (Screen.LANGUAGE, "ja", None)
        assert state.preferences == Preferences() and state.taps == 0
        assert state.office_loaded  # the office data is not the visitor's

    def test_a_touch_postpones_the_wipe(self) -> None:
        flow = ready_flow()
        flow.choose_language("en", 0)
        flow.touch(50)
        assert not flow.tick(100)
        assert flow.tick(111)

    def test_the_ticket_screen_returns_sooner(self) -> None:
        flow = ready_flow()
        flow.choose_language("en", 0)
        flow.choose_category("certificates", 0)
        flow.confirm(0)
        flow.ticket_issued(TICKET, 0)
        assert flow.tick(31) and flow.state.ticket is None

    def test_issuing_never_times_out_under_the_visitor(self) -> None:
        flow = ready_flow()
        flow.choose_language("en", 0)
        flow.choose_category("certificates", 0)
        flow.confirm(0)
        assert not flow.tick(10_000)


class TestNotices:
    def test_closed_office(self) -> None:
        flow = ready_flow()
        flow.status_received(
            {"open": False, "categories": [{"id": "certificates", "closed_reason": "closed_day"}]}
        )
        flow.choose_language("ko", 0)
        assert (flow.state.screen, flow.state.notice) == (Screen.NOTICE, Notice.OFFICE_CLOSED)
        assert flow.state.notice_reason == "closed_day"

    def test_closed_category_explains_itself(self) -> None:
        flow = ready_flow()
        flow.choose_language("en", 0)
        flow.choose_category("tax", 1)
        assert flow.state.notice is Notice.CATEGORY_CLOSED
        assert notice_text("en", "category_closed", "reception_ended").startswith("Reception")

    def test_the_office_offers_its_own_languages(self) -> None:
        flow = Flow()
        flow.office_loaded({**OFFICE, "languages": ["en", "ja"]})
        assert flow.state.languages == ("ja", "en")
        flow.office_loaded({**OFFICE, "languages": ["fr"]})
        assert flow.state.languages == ("ja",)
        flow.office_loaded(OFFICE)  # an older server that does not say
        assert flow.state.languages == LANGUAGES

    def test_no_office_means_unreachable(self) -> None:
        flow = Flow()
        flow.choose_language("pt", 0)
        assert flow.state.notice is Notice.UNREACHABLE

    @pytest.mark.parametrize(
        ("code", "notice"),
        [
            ("daily_cap_reached", Notice.DAILY_CAP),
            ("number_range_exhausted", Notice.NUMBER_RANGE),
            ("office_closed", Notice.OFFICE_CLOSED),
            ("category_closed", Notice.CATEGORY_CLOSED),
            ("server_unreachable", Notice.UNREACHABLE),
            ("unauthorized", Notice.REFUSED),
        ],
    )
    def test_issue_errors_become_notices_without_a_number(self, code: str, notice: Notice) -> None:
        flow = ready_flow()
        flow.choose_language("en", 0)
        flow.choose_category("certificates", 0)
        flow.confirm(0)
        flow.issue_failed(code, 1)
        assert (flow.state.screen, flow.state.notice, flow.state.ticket) == (
            Screen.NOTICE,
            notice,
            None,
        )

    def test_a_lost_feed_hides_stale_figures(self) -> None:
        flow = ready_flow()
        flow.status_received({"categories": [{"id": "certificates", "waiting": 4}]})
        flow.connection_changed(False)
        assert flow.state.category("certificates").waiting is None  # type: ignore[union-attr]


class TestCodes:
    def test_a_scan_is_verified_before_anything_changes(self) -> None:
        flow = ready_flow()
        flow.choose_language("en", 0)
        assert flow.scanned("MDG1.x.y", 1) == [VerifyCode("MDG1.x.y")]
        assert flow.scanned("MDG1.x.y", 1) == []  # one verification at a time
        flow.code_verified(
            {"kind": "reservation", "category_id": "certificates", "priority": "reservation"},
            "MDG1.x.y",
            2,
        )
        assert flow.state.screen is Screen.CONFIRM
        assert flow.confirm(3) == [IssueTicket("certificates", "en", "normal", "MDG1.x.y")]

    def test_a_rejected_code_changes_nothing_but_the_message(self) -> None:
        flow = ready_flow()
        flow.choose_language("en", 0)
        flow.open_scan(1)
        before = flow.state
        flow.scanned("junk", 2)
        flow.code_rejected("code_expired", 3)
        after = flow.state
        assert after.message == "code_expired" and after.prefill is None
        assert (after.screen, after.category_id, after.taps) == (
            before.screen,
            before.category_id,
            before.taps,
        )

    def test_a_card_prefill_plugs_into_the_same_step(self) -> None:
        flow = ready_flow()
        flow.choose_language("ja", 0)
        flow.prefilled(Prefill(source="card", kind="card", category_id="certificates"), 1)
        assert flow.state.screen is Screen.CONFIRM and flow.state.prefill is not None


class TestUnsure:
    """「わからない・その他」: a real path whether or not the office has a general category."""

    def test_without_a_general_category_the_visitor_is_sent_to_the_reception(self) -> None:
        flow = ready_flow()
        flow.choose_language("ja-easy", 1)
        assert "わからない・そのほか" in speech_for(flow.state)  # the procedures screen's voice
        assert flow.choose_unsure(2) == []
        assert flow.state.screen is Screen.UNSURE and flow.state.taps == 1
        assert "うけつけ" in speech_for(flow.state)
        flow.back(3)
        assert flow.state.screen is Screen.PROCEDURES

    def test_a_general_category_issues_its_ticket(self) -> None:
        office = {
            **OFFICE,
            "categories": [
                *OFFICE["categories"],
                {"id": "general", "names": {"ja": "総合案内"}, "prefix": "G", "open_now": True},
            ],
        }
        flow = Flow(Timeouts(), now=0, general_category="general")
        flow.office_loaded(office)
        flow.choose_language("en", 1)
        flow.choose_unsure(2)
        assert flow.state.screen is Screen.CONFIRM and flow.state.category_id == "general"
        assert flow.confirm(3) == [IssueTicket("general", "en", "normal", None)]
        flow.start_over(4)
        assert flow.state.general_category == "general"  # kept across visits

    def test_the_ticket_letter_comes_from_the_office(self) -> None:
        flow = Flow()
        flow.office_loaded({"categories": [{"id": "c", "names": {"ja": "住民票"}, "prefix": "A"}]})
        assert flow.state.category("c").prefix == "A"  # type: ignore[union-attr]


class TestTexts:
    def test_every_language_has_every_sentence(self) -> None:
        assert set(LANGUAGES) == set(LANGUAGE_NAMES) == set(visitor_text.LANGUAGES)
        kiosk_keys = {k for k in visitor_text.flat_keys("ja") if k.startswith("kiosk.")}
        for language in LANGUAGES:
            assert kiosk_keys <= visitor_text.flat_keys(language), language

    def test_every_sentence_the_kiosk_code_names_is_in_the_catalogue(self) -> None:
        import re
        from pathlib import Path

        import kiosk_app

        root = Path(kiosk_app.__file__).parent
        named = set()
        for path in root.rglob("*.py"):
            named |= set(re.findall(r"\btext\(\s*[\w\"'-]+,\s*\"([a-z_]+)\"", path.read_text()))
        assert len(named) > 40  # the pattern still finds the calls
        kiosk_keys = {k.removeprefix("kiosk.") for k in visitor_text.flat_keys("ja")}
        assert named <= kiosk_keys, sorted(named - kiosk_keys)

    def test_every_language_says_ask_staff(self) -> None:
        assert text("ja", "ask_staff") == "職員にお声がけください"
        assert all(text(lang, "ask_staff") for lang in LANGUAGES)

    def test_no_estimate_is_never_zero_minutes(self) -> None:
        assert wait_text("en", None) == "wait time not available"
        assert wait_text("ja", 15, 10, 25) == "約15分（10〜25分）"

    @pytest.mark.parametrize(
        ("m", "low", "high", "easy"),
        [
            (6, None, None, "だいたい 6ぷん"),
            (7, None, None, "だいたい 7ふん"),
            (15, 10, 25, "だいたい 15ふん（10〜25ふん）"),
            (12, 8, 20, "だいたい 12ふん（8〜20ぷん）"),
        ],
    )
    def test_easy_japanese_minutes_are_read_by_the_last_digit(
        self, m: int, low: int | None, high: int | None, easy: str
    ) -> None:
        assert wait_text("ja-easy", m, low, high) == easy

    def test_numbers_are_written_for_the_ear(self) -> None:
        assert speakable_number("ja", "A-012") == "エー12ばん"
        assert speakable_number("en", "C-007") == "C 7"
