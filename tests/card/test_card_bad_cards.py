"""Cards that are not MyNumber cards get the "not a MyNumber card" screen, whatever they answer
to the SELECT: 6A82, 6D00, 6E00, 6F00, a short or empty reply, or no answer at all (no contact
chip). Through the simulator behind pyscard's `CardConnection`, as the kiosk reads a card."""

from __future__ import annotations

import pytest

from kiosk_app.devices.card.readers import open_channel
from kiosk_app.devices.card.session import CardRemoved, MyNumberSession, NotMyNumberCard
from kiosk_app.devices.card.sim import SimulatedMyNumberCard
from kiosk_app.devices.card.station import CardStation
from kiosk_app.flow import CheckCard, Flow, ReadCardTries, Screen, Timeouts
from queue_server.domain.forms import FORMS
from queue_server.service.form_words import form_schema

BAD_CARDS = ["other", "sw:6A82", "sw:6D00", "sw:6E00", "sw:6F00", "short", "empty", "nochip"]


@pytest.mark.parametrize("card", BAD_CARDS)
def test_the_session_says_not_a_mynumber_card(card: str) -> None:
    with pytest.raises(NotMyNumberCard):
        MyNumberSession(open_channel(f"sim://?card={card}")).tries_left()


@pytest.mark.parametrize("card", BAD_CARDS)
def test_the_station_sees_a_card_and_then_says_it_is_not_ours(card: str) -> None:
    station = CardStation(f"sim://?card={card}")
    assert station.present()
    with pytest.raises(NotMyNumberCard):
        station.tries_left()
    with pytest.raises(NotMyNumberCard):
        station.verify_and_read("1234")
    station.release()


def test_a_real_mynumber_card_is_still_read() -> None:
    station = CardStation("sim://")
    assert station.tries_left() == 3
    assert station.verify_and_read("1234")["birth"] == "19900401"


def test_a_card_pulled_out_mid_select_is_still_removed_not_foreign() -> None:
    card = SimulatedMyNumberCard()
    channel = open_channel("sim://", card)
    card.remove()
    with pytest.raises(CardRemoved):
        MyNumberSession(channel).tries_left()


def _flow_at_consent() -> Flow:
    office = {
        "open": True,
        "names": {"ja": "白川市役所"},
        "categories": [{"id": "certificates", "names": {"ja": "住民票"}, "forms": ["juminhyo"]}],
    }
    flow = Flow(Timeouts(idle=60, ticket=30, notice=30), now=0, card_reader=True)
    flow.office_loaded(office)
    flow.forms_loaded({"forms": [form_schema(spec) for spec in FORMS.values()]})
    flow.choose_language("ja", 0)
    flow.choose_category("certificates", 1)
    assert flow.start_card(2) == [CheckCard()]
    return flow


@pytest.mark.parametrize("card", BAD_CARDS)
def test_the_kiosk_shows_the_not_a_mynumber_card_screen(card: str) -> None:
    """What the kiosk's controller does with a card, step by step, on the pure flow."""
    station = CardStation(f"sim://?card={card}")
    flow = _flow_at_consent()
    flow.card_present(station.present(), 3)
    assert flow.state.screen is Screen.CARD_CONSENT
    assert flow.card_consent(4) == [ReadCardTries()]
    try:
        flow.card_tries(station.tries_left(), 5)
    except NotMyNumberCard:
        flow.card_failed("not_mynumber", None, 5)
    assert (flow.state.screen, flow.state.message) == (Screen.CARD_INSERT, "card_not_mynumber")
