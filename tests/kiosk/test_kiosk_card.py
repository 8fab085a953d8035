"""The MyNumber card at the kiosk end to end: the real Qt window offscreen, a simulated card
behind pyscard's transmit path, and a `madoguchi serve` process of its own (day close runs on
its database). Every test checks the card's APDU log; the last one searches logs, database and
events for card data."""

from __future__ import annotations

import io
import logging
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from kiosk_helpers import SECRET, Server, open_office, qr_png, wait_screen
from pypdf import PdfReader
from PySide6.QtWidgets import QLabel, QPushButton
from support.server import prepare, server_process

from kiosk_app.devices.card.apdu import CARD_FACE_AID, EF_INDIVIDUAL_NUMBER, JPKI_AID
from kiosk_app.devices.card.sim import SAMPLE, SimulatedMyNumberCard
from kiosk_app.devices.card.station import CardStation
from kiosk_app.flow import Screen
from kiosk_app.i18n import text
from queue_server.service.ports import FakeClock, SystemClock

pytestmark = pytest.mark.usefixtures("qapp")

LONG_ADDRESS = (
    "北海道札幌市中央区北一条西二丁目"
    + "１２３４５６７８９０番地の" * 6
    + "白川マンション１０１号室"
)
# Whatever a card holds must never show up outside the request itself.
SECRETS = ("試験", "花子", "霞が関", "19900401", "1990-04-01", "白川マンション")


@pytest.fixture(scope="module")
def card_server(tmp_path_factory: pytest.TempPathFactory, _code_secret: None) -> Iterator[Server]:
    """A server of this module's own: its day close must not disturb other tests."""
    db_url = f"sqlite:///{tmp_path_factory.mktemp('card-server') / 'madoguchi.db'}"
    engine, tokens = prepare(db_url, SystemClock(), raw=open_office())
    engine.dispose()
    with server_process(db_url) as url:
        yield Server(url, tokens, db_url)


def server_log(server: Server) -> Path:
    port = server.url.rsplit(":", 1)[1]
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"madoguchi-server-{port}.log"


def clerk_get(server: Server, path: str) -> httpx.Response:
    return httpx.get(
        f"{server.url}/api/v1{path}",
        headers={"Authorization": f"Bearer {server.tokens.clerk}"},
        timeout=10,
    )


def assert_card_rules(card: SimulatedMyNumberCard, pins_entered: int) -> None:
    """EF 0001, the card-face and JPKI APs never selected; exactly one VERIFY per OK tap."""
    for entry in card.log:
        if entry.header[:2] == b"\x00\xa4":
            assert entry.data not in (EF_INDIVIDUAL_NUMBER, JPKI_AID, CARD_FACE_AID)
    verifies = [e for e in card.log if e.header[:2] == b"\x00\x20" and e.has_data]
    assert len(verifies) == pins_entered
    # The tries were asked (a VERIFY without data) before every PIN that was sent.
    for i, entry in enumerate(card.log):
        if entry.header[:2] == b"\x00\x20" and entry.has_data:
            assert any(e.header[:2] == b"\x00\x20" and not e.has_data for e in card.log[:i])


def assert_no_card_data(haystack: str) -> None:
    for secret in (*SECRETS, "1234"):
        assert secret not in haystack, secret


def card_kiosk(make_kiosk, qtbot, server: Server, card: SimulatedMyNumberCard, printer=None):
    kiosk = make_kiosk(server, printer, card=CardStation("sim://", simulator=card))
    # The forms arrive after the office (a request of their own); the card button needs them.
    qtbot.waitUntil(lambda: kiosk.state.forms != (), timeout=10_000)
    return kiosk


def enter_pin(kiosk, qtbot, pin: str) -> None:
    for digit in pin:
        kiosk.click(qtbot, f"pin-{digit}")
    kiosk.click(qtbot, "pin-ok")


def tap_field(kiosk, qtbot, name: str) -> None:
    """Tap a question's button, scrolling it into view first as a visitor's finger would."""
    from PySide6.QtWidgets import QScrollArea

    scroll = kiosk.window.findChild(QScrollArea, "body")
    scroll.ensureWidgetVisible(kiosk.window.findChild(QPushButton, name))
    kiosk.click(qtbot, name)


def to_pin_screen(kiosk, qtbot, language: str = "ja") -> None:
    kiosk.click(qtbot, f"lang-{language}")
    kiosk.click(qtbot, "category-certificates")
    kiosk.click(qtbot, "card-request")
    wait_screen(qtbot, kiosk, Screen.CARD_CONSENT)  # the card is already on the reader
    kiosk.click(qtbot, "card-agree")
    wait_screen(qtbot, kiosk, Screen.CARD_PIN)


def test_card_pin_form_ticket_clerk_pdf_then_day_close(
    card_server, make_kiosk, fake_printer, qtbot, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    card = SimulatedMyNumberCard()
    kiosk = card_kiosk(make_kiosk, qtbot, card_server, card, fake_printer)
    to_pin_screen(kiosk, qtbot)
    assert kiosk.text("card-tries") == text("ja", "card_tries", n=3)
    assert kiosk.window._pin == []
    enter_pin(kiosk, qtbot, "1234")
    assert kiosk.window._pin == []  # cleared as the command left
    wait_screen(qtbot, kiosk, Screen.REQUEST_FORM)
    assert kiosk.controller.card_thread is not None
    assert kiosk.controller.card_thread is not threading.main_thread()
    assert kiosk.controller.card_thread.name.startswith("kiosk-card")
    assert "試験　花子" in kiosk.text("card-items") and "霞が関" in kiosk.text("card-items")
    tap_field(kiosk, qtbot, "field-scope-household")
    tap_field(kiosk, qtbot, "field-purpose-bank")
    tap_field(kiosk, qtbot, "field-copies-plus")
    assert kiosk.text("field-copies-value") == "2"
    kiosk.click(qtbot, "issue")
    wait_screen(qtbot, kiosk, Screen.TICKET)
    ticket = kiosk.state.ticket
    assert kiosk.state.prefill is None  # wiped on completion
    assert_card_rules(card, pins_entered=1)

    request = clerk_get(card_server, f"/tickets/{ticket['id']}/request").json()["request"]
    fields = request["fields"]
    assert (fields["requester_name"], fields["requester_address"]) == SAMPLE[:2]
    assert (fields["requester_birth_date"], fields["copies"], request["source"]) == (
        "1990-04-01",
        2,
        "kiosk",
    )
    pdf = clerk_get(card_server, f"/tickets/{ticket['id']}/request.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    extracted = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for expected in ("試験", "花子", "霞が関", ticket["number"]):
        assert expected in extracted
    assert_no_card_data(caplog.text)

    # Day close (the office's clock a day on) deletes the request on the server.
    from queue_server.api.app import create_app
    from queue_server.settings import ServerSettings

    clock = FakeClock(datetime.now(UTC) + timedelta(days=1))
    app = create_app(
        ServerSettings(database_url=card_server.db_url, secret_key=SECRET), clock=clock
    )
    assert app.state.container.service.close_day_if_due()
    assert clerk_get(card_server, f"/tickets/{ticket['id']}/request").status_code == 404


def test_wrong_pin_then_last_try_warning_then_locked_goes_on_without_the_card(
    card_server, make_kiosk, qtbot, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    card = SimulatedMyNumberCard(tries=2)
    kiosk = card_kiosk(make_kiosk, qtbot, card_server, card)
    to_pin_screen(kiosk, qtbot, "en")
    assert kiosk.text("card-tries") == text("en", "card_tries", n=2)
    enter_pin(kiosk, qtbot, "9999")
    qtbot.waitUntil(lambda: kiosk.state.message == "wrong_pin", timeout=5000)
    assert kiosk.text("card-tries") == text("en", "card_tries", n=1)
    assert kiosk.text("card-last-try") == text("en", "card_last_try")
    qtbot.wait(300)  # no VERIFY of its own accord while the visitor thinks
    kiosk.click(qtbot, "pin-9")
    kiosk.window._rendered = None  # a status update redraws the screen mid-entry
    kiosk.window.show_state()
    assert len(kiosk.window._pin) == 1 and kiosk.text("pin-display").startswith("●")
    kiosk.click(qtbot, "pin-clear")
    assert_card_rules(card, pins_entered=1)
    enter_pin(kiosk, qtbot, "9999")
    wait_screen(qtbot, kiosk, Screen.CARD_LOCKED)
    assert card.tries == 0
    kiosk.click(qtbot, "card-without")
    assert kiosk.state.screen is Screen.CONFIRM
    assert kiosk.window.findChild(QPushButton, "card-request") is None
    kiosk.click(qtbot, "issue")
    wait_screen(qtbot, kiosk, Screen.TICKET)
    ticket = kiosk.state.ticket
    assert clerk_get(card_server, f"/tickets/{ticket['id']}/request").status_code == 404
    assert_card_rules(card, pins_entered=2)
    assert_no_card_data(caplog.text)


def test_a_locked_card_gets_no_pin_pad(card_server, make_kiosk, qtbot) -> None:
    card = SimulatedMyNumberCard(tries=0)
    kiosk = card_kiosk(make_kiosk, qtbot, card_server, card)
    kiosk.click(qtbot, "lang-ja")
    kiosk.click(qtbot, "category-certificates")
    kiosk.click(qtbot, "card-request")
    wait_screen(qtbot, kiosk, Screen.CARD_CONSENT)
    kiosk.click(qtbot, "card-agree")
    wait_screen(qtbot, kiosk, Screen.CARD_LOCKED)
    assert kiosk.text("notice") == text("ja", "card_locked_title")
    assert_card_rules(card, pins_entered=0)


def test_not_a_mynumber_card(card_server, make_kiosk, qtbot) -> None:
    card = SimulatedMyNumberCard(is_mynumber_card=False)
    kiosk = card_kiosk(make_kiosk, qtbot, card_server, card)
    kiosk.click(qtbot, "lang-ja")
    kiosk.click(qtbot, "category-certificates")
    kiosk.click(qtbot, "card-request")
    wait_screen(qtbot, kiosk, Screen.CARD_CONSENT)
    kiosk.click(qtbot, "card-agree")
    qtbot.waitUntil(lambda: kiosk.state.message == "card_not_mynumber", timeout=5000)
    assert kiosk.state.screen is Screen.CARD_INSERT
    assert kiosk.text("message") == text("ja", "card_not_mynumber")
    assert_card_rules(card, pins_entered=0)


class RemovedWhileReading(SimulatedMyNumberCard):
    """Taken off the reader after the file's first bytes were read."""

    def transmit(self, command: bytes) -> bytes:
        if command[:2] == b"\x00\xb0" and command[2:4] != b"\x00\x00":
            self.remove()
        return super().transmit(command)


def test_card_removed_mid_read_and_at_the_pin_pad(card_server, make_kiosk, qtbot, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    card = RemovedWhileReading()
    kiosk = card_kiosk(make_kiosk, qtbot, card_server, card)
    to_pin_screen(kiosk, qtbot)
    enter_pin(kiosk, qtbot, "1234")
    qtbot.waitUntil(lambda: kiosk.state.message == "card_removed", timeout=5000)
    assert kiosk.state.screen is Screen.CARD_INSERT and kiosk.state.prefill is None
    assert kiosk.text("message") == text("ja", "card_removed")
    assert_card_rules(card, pins_entered=1)
    # Back on the reader: consent again; taken away at the PIN pad: noticed by the poll.
    card.insert()
    wait_screen(qtbot, kiosk, Screen.CARD_CONSENT)
    kiosk.click(qtbot, "card-agree")
    wait_screen(qtbot, kiosk, Screen.CARD_PIN)
    card.remove()
    wait_screen(qtbot, kiosk, Screen.CARD_INSERT)
    assert kiosk.state.message == "card_removed"
    assert_card_rules(card, pins_entered=1)
    assert_no_card_data(caplog.text)


def test_a_long_address_reaches_the_clerk_whole(card_server, make_kiosk, qtbot) -> None:
    card = SimulatedMyNumberCard(items=("試験　花子", LONG_ADDRESS, "19900401", "2"))
    kiosk = card_kiosk(make_kiosk, qtbot, card_server, card)
    to_pin_screen(kiosk, qtbot)
    enter_pin(kiosk, qtbot, "1234")
    wait_screen(qtbot, kiosk, Screen.REQUEST_FORM)
    assert LONG_ADDRESS in kiosk.text("card-items")
    tap_field(kiosk, qtbot, "field-scope-some")  # 本人のみ: the card holder's own record
    tap_field(kiosk, qtbot, "field-purpose-employment")
    kiosk.click(qtbot, "issue")
    wait_screen(qtbot, kiosk, Screen.TICKET)
    request = clerk_get(card_server, f"/tickets/{kiosk.state.ticket['id']}/request").json()
    fields = request["request"]["fields"]
    assert fields["requester_address"] == LONG_ADDRESS
    assert (fields["scope"], fields["members"]) == ("some", ["試験　花子"])
    assert_card_rules(card, pins_entered=1)


def test_idle_timeout_wipes_the_form_and_lets_go_of_the_card(
    card_server, make_kiosk, qtbot
) -> None:
    card = SimulatedMyNumberCard()
    kiosk = card_kiosk(make_kiosk, qtbot, card_server, card)
    to_pin_screen(kiosk, qtbot)
    enter_pin(kiosk, qtbot, "1234")
    wait_screen(qtbot, kiosk, Screen.REQUEST_FORM)
    kiosk.time.advance(61)
    kiosk.controller.tick()
    assert kiosk.state.screen is Screen.LANGUAGE and kiosk.state.prefill is None
    assert kiosk.window.findChild(QLabel, "card-items") is None
    qtbot.waitUntil(lambda: kiosk.controller.card._session is None, timeout=3000)


def test_preapplication_qr_from_home_to_ticket(card_server, make_kiosk, qtbot, tmp_path) -> None:
    made = httpx.post(
        f"{card_server.url}/api/v1/preapplications",
        json={
            "category_id": "certificates",
            "form": "juminhyo",
            "language": "en",
            "fields": {
                "requester_name": "試験　花子",
                "requester_address": "東京都千代田区霞が関１－２－３",
                "requester_birth_date": "1990-04-01",
                "relation": "self",
                "scope": "household",
                "copies": 1,
                "purpose": "school",
            },
        },
        timeout=10,
    )
    assert made.status_code == 201, made.text
    code = made.json()["preapplication"]["code"]
    kiosk = make_kiosk(card_server)
    kiosk.click(qtbot, "lang-en")
    kiosk.click(qtbot, "scan")
    qr_png(code, tmp_path / "preapplication.png")
    (tmp_path / "preapplication.png").rename(kiosk.scans / "preapplication.png")
    wait_screen(qtbot, kiosk, Screen.CONFIRM)
    assert kiosk.text("prefill") == text("en", "prefill_preapplication")
    kiosk.click(qtbot, "issue")
    wait_screen(qtbot, kiosk, Screen.TICKET)
    request = clerk_get(card_server, f"/tickets/{kiosk.state.ticket['id']}/request").json()
    assert request["request"]["source"] == "preapplication"
    assert request["request"]["fields"]["purpose"] == "school"


def test_no_card_data_in_logs_database_or_events(card_server, caplog) -> None:
    """Runs last: after the day close, nothing the cards held is anywhere but gone."""
    from sqlalchemy import create_engine, select

    from queue_server.adapters import tables as t

    engine = create_engine(card_server.db_url)
    with engine.connect() as c:
        rows = "\n".join(
            str([tuple(r) for r in c.execute(select(table))])
            for table in t.metadata.sorted_tables
            if table.name not in ("ticket_attachments",)
        )
        events = str([r.payload for r in c.execute(select(t.office_events.c.payload))])
    engine.dispose()
    for secret in (*SECRETS, LONG_ADDRESS[:12]):
        assert secret not in events, secret
        assert secret not in server_log(card_server).read_text(), secret
    # Requests issued after the day close (long address, pre-application) are still in their
    # attachment rows until the next close; every other table holds no card data.
    for secret in SECRETS:
        assert secret not in rows, secret
