"""The MyNumber card steps of the pure flow: tries before the PIN, one VERIFY per tap, the
prefilled request, and the wipe on completion, removal and timeout."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk_app.flow import (
    CheckCard,
    Flow,
    IssueTicket,
    ReadCardTries,
    ReleaseCard,
    Screen,
    Timeouts,
    VerifyAndReadCard,
    fiscal_year,
)
from queue_server.domain.forms import FORMS
from queue_server.service.form_words import form_schema

ITEMS = {
    "name": "試験　花子",
    "address": "東京都千代田区霞が関１－２－３",
    "birth": "19900401",
    "sex": "2",
}
TODAY = date(2026, 11, 27)


def office(certificates_forms: list[str]) -> dict:
    return {
        "open": True,
        "names": {"ja": "白川市役所"},
        "categories": [
            {"id": "certificates", "names": {"ja": "住民票"}, "forms": certificates_forms},
            {"id": "tax", "names": {"ja": "税証明"}, "forms": ["kazei"]},
            {"id": "koseki", "names": {"ja": "戸籍"}},
        ],
    }


def card_flow(forms: list[str] | None = None, reader: bool = True) -> Flow:
    flow = Flow(Timeouts(idle=60, ticket=30, notice=30), now=0, card_reader=reader)
    flow.office_loaded(office(forms if forms is not None else ["juminhyo", "inkan"]))
    flow.forms_loaded({"forms": [form_schema(spec) for spec in FORMS.values()]})
    flow.choose_language("ja", 0)
    return flow


def to_pin(flow: Flow, category: str = "certificates", tries: int = 3) -> None:
    flow.choose_category(category, 1)
    assert flow.start_card(2) == [CheckCard()]
    assert flow.state.screen is Screen.CARD_INSERT
    flow.card_present(True, 3)
    assert flow.state.screen is Screen.CARD_CONSENT
    assert flow.card_consent(4) == [ReadCardTries()]
    flow.card_tries(tries, 5)


def to_form(flow: Flow, category: str = "certificates") -> None:
    to_pin(flow, category)
    flow.submit_pin("1234", 6)
    flow.card_read(ITEMS, TODAY, 7)
    assert flow.state.screen is Screen.REQUEST_FORM


class TestOffer:
    def test_only_forms_completed_by_card_and_touch_are_offered(self) -> None:
        flow = card_flow()
        flow.choose_category("certificates", 1)
        # inkan needs the 印鑑登録証 number typed in: that form stays with the clerk.
        assert [f.id for f in flow.card_forms()] == ["juminhyo"]

    def test_no_reader_or_no_forms_means_no_card_button(self) -> None:
        flow = card_flow(reader=False)
        flow.choose_category("certificates", 1)
        assert flow.card_forms() == () and flow.start_card(2) == []
        flow = card_flow()
        flow.choose_category("koseki", 1)
        assert flow.card_forms() == ()

    def test_several_forms_are_chosen_first(self) -> None:
        flow = card_flow(["juminhyo", "kazei"])
        flow.choose_category("certificates", 1)
        assert flow.start_card(2) == []
        assert flow.state.screen is Screen.CARD_FORMS
        assert flow.choose_form("kazei", 3) == [CheckCard()]
        assert (flow.state.screen, flow.state.form_id) == (Screen.CARD_INSERT, "kazei")


class TestPin:
    def test_tries_are_asked_before_the_pin_and_one_tap_is_one_verify(self) -> None:
        flow = card_flow()
        to_pin(flow)
        assert (flow.state.screen, flow.state.card_tries) == (Screen.CARD_PIN, 3)
        commands = flow.submit_pin("1234", 6)
        assert commands == [VerifyAndReadCard("1234")]
        assert "1234" not in repr(commands)
        assert flow.submit_pin("1234", 6) == []  # a second tap while reading sends nothing

    @pytest.mark.parametrize("pin", ["123", "12345", "12a4", "１２３４", ""])
    def test_only_four_ascii_digits_reach_the_card(self, pin: str) -> None:
        flow = card_flow()
        to_pin(flow)
        assert flow.submit_pin(pin, 6) == []
        assert (flow.state.screen, flow.state.message) == (Screen.CARD_PIN, "pin_four_digits")

    def test_a_wrong_pin_shows_the_tries_left_and_never_retries(self) -> None:
        flow = card_flow()
        to_pin(flow)
        flow.submit_pin("0000", 6)
        assert flow.card_failed("wrong_pin", 1, 7) == []
        assert (flow.state.screen, flow.state.card_tries) == (Screen.CARD_PIN, 1)
        assert flow.state.message == "wrong_pin"

    def test_a_locked_card_is_sent_to_the_counter_and_the_visit_goes_on(self) -> None:
        flow = card_flow()
        to_pin(flow, tries=0)
        assert flow.state.screen is Screen.CARD_LOCKED
        flow.continue_without_card(6)
        assert (flow.state.screen, flow.state.category_id) == (Screen.CONFIRM, "certificates")
        assert flow.start_card(7) == []  # not offered again in this visit
        assert flow.confirm(8) == [IssueTicket("certificates", "ja", "normal", None, None)]

    def test_the_last_wrong_try_locks(self) -> None:
        flow = card_flow()
        to_pin(flow, tries=1)
        flow.submit_pin("0000", 6)
        assert flow.card_failed("locked", 0, 7) == [ReleaseCard()]
        assert flow.state.screen is Screen.CARD_LOCKED


class TestRequest:
    def test_the_card_fills_the_requester_and_touch_answers_complete_it(self) -> None:
        flow = card_flow()
        to_form(flow)
        fields = flow.request_fields()
        assert fields["requester_name"] == ITEMS["name"]
        assert fields["requester_birth_date"] == "1990-04-01"
        assert "2" not in fields.values()  # sex: no form of ours asks for it
        assert (fields["relation"], fields["copies"]) == ("self", 1)
        assert set(flow.request_missing()) == {"scope", "purpose"}
        assert flow.confirm(8) == []  # not before every required answer is given
        flow.set_field("scope", "some", 8)
        assert flow.request_fields()["members"] == [ITEMS["name"]]
        flow.set_field("purpose", "bank", 9)
        flow.set_field("copies", 2, 9)
        flow.set_field("copies", 11, 9)  # beyond the form's maximum: ignored
        flow.set_field("subject_name", "誰か", 9)  # typed fields are not the kiosk's
        flow.set_field("include_individual_number", True, 9)
        commands = flow.confirm(10)
        assert isinstance(commands[0], IssueTicket)
        request = commands[0].request
        assert request is not None and request["form"] == "juminhyo"
        assert request["fields"]["copies"] == 2
        assert "subject_name" not in request["fields"]
        assert "include_individual_number" not in request["fields"]
        assert "試験" not in repr(commands) and "試験" not in repr(flow.state)
        flow.ticket_issued({"id": 1, "number": "A-001", "category_id": "certificates"}, 11)
        assert flow.state.prefill is None  # wiped on completion

    def test_a_household_member_asks_for_the_whole_household(self) -> None:
        flow = card_flow()
        to_form(flow)
        flow.set_field("scope", "some", 8)
        flow.set_field("relation", "household", 9)
        fields = flow.request_fields()
        assert fields["scope"] == "household" and "members" not in fields
        assert [c.value for c in flow.choices(flow.state.form().field("relation"))] == [
            "self",
            "household",
        ]  # no proxy: a proxy names the person, which is typed at the counter

    def test_tax_year_starts_at_the_current_fiscal_year(self) -> None:
        flow = card_flow()
        flow.status_received({"categories": [{"id": "tax", "open": True}]})
        to_form(flow, "tax")
        assert flow.request_fields()["tax_year"] == 2026
        flow.set_field("tax_year", 2027, 8)  # a fiscal year that has not begun
        assert flow.request_fields()["tax_year"] == 2026
        flow.set_field("tax_year", 2025, 8)
        assert flow.request_fields()["tax_year"] == 2025
        # Without a scope question a household member would have to be named: self only.
        assert [c.value for c in flow.choices(flow.state.form().field("relation"))] == ["self"]
        assert (fiscal_year(date(2027, 3, 31)), fiscal_year(date(2027, 4, 1))) == (2026, 2027)


class TestWipe:
    def test_removing_the_card_starts_the_card_steps_again_with_nothing_kept(self) -> None:
        flow = card_flow()
        to_pin(flow)
        assert flow.card_present(False, 6) == [ReleaseCard(), CheckCard()]
        assert (flow.state.screen, flow.state.message) == (Screen.CARD_INSERT, "card_removed")
        assert flow.state.card_tries is None and flow.state.prefill is None

    def test_removal_mid_read_and_late_results_are_ignored(self) -> None:
        flow = card_flow()
        to_pin(flow)
        flow.submit_pin("1234", 6)
        flow.card_failed("removed", None, 7)
        assert flow.state.screen is Screen.CARD_INSERT
        flow.card_read(ITEMS, TODAY, 8)  # a result that arrives after the removal
        assert flow.state.prefill is None and flow.state.screen is Screen.CARD_INSERT

    def test_the_idle_timeout_wipes_the_prefilled_form(self) -> None:
        flow = card_flow()
        to_form(flow)
        assert flow.tick(100)
        state = flow.state
        assert state.prefill is None and state.form_id is None and state.screen is Screen.LANGUAGE
        assert state.card_reader and state.forms  # the kiosk's own, not the visitor's

    def test_back_leaves_the_card_steps_and_lets_go_of_the_card(self) -> None:
        flow = card_flow()
        to_form(flow)
        assert flow.back(8) == [ReleaseCard()]
        assert (flow.state.screen, flow.state.prefill) == (Screen.CONFIRM, None)

    def test_a_card_that_failed_must_leave_the_reader_before_the_next_try(self) -> None:
        flow = card_flow()
        to_pin(flow)
        flow.card_failed("not_mynumber", None, 6)
        flow.card_present(True, 7)  # still the same card: the message stays
        assert (flow.state.screen, flow.state.message) == (Screen.CARD_INSERT, "card_not_mynumber")
        flow.card_present(False, 8)
        flow.card_present(True, 9)
        assert flow.state.screen is Screen.CARD_CONSENT


def test_a_snapshot_before_the_office_still_shows_its_figures() -> None:
    flow = Flow()
    flow.status_received({"categories": [{"id": "certificates", "waiting": 4}]})
    flow.office_loaded(office(["juminhyo"]))
    assert flow.state.category("certificates").waiting == 4  # type: ignore[union-attr]
