"""The Qt kiosk offscreen against a real server process and the fake TCP printer."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from kiosk_helpers import Server, clerk_ticket, open_office, qr_png, sign_code, wait_screen
from PIL import Image
from PySide6.QtWidgets import QLabel, QPushButton
from support.server import Tokens, free_port, prepare, server_process

from kiosk_app.flow import LANGUAGES, Notice, Printing, Screen
from kiosk_app.i18n import notice_text, text
from queue_server.service.ports import SystemClock

pytestmark = pytest.mark.usefixtures("qapp")


def read_qr(path: Path) -> list[str]:
    import zxingcpp

    return [r.text for r in zxingcpp.read_barcodes(Image.open(path).convert("L"))]


class TestPlainTicket:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_each_language_gets_a_printed_ticket_in_two_taps(
        self, language, server, make_kiosk, fake_printer, qtbot
    ) -> None:
        kiosk = make_kiosk(server, fake_printer)
        kiosk.click(qtbot, f"lang-{language}")
        assert kiosk.text("title") == text(language, "choose_procedure")
        kiosk.click(qtbot, "category-moving")
        kiosk.click(qtbot, "issue")
        wait_screen(qtbot, kiosk, Screen.TICKET)
        assert kiosk.state.taps == 2
        ticket = kiosk.state.ticket
        assert kiosk.text("number") == ticket["number"] and ticket["number"].startswith("C-")
        assert ticket["language"] == language
        qtbot.waitUntil(lambda: kiosk.state.printing is Printing.PRINTED, timeout=5000)
        assert kiosk.text("print-status") == text(language, "take_slip")
        assert fake_printer.wait_for_slips(1)
        if language == "en":  # the slip that came out carries this ticket's QR
            assert read_qr(fake_printer.printed[0].png) == [ticket["status_url"]]
        qtbot.waitUntil(
            lambda: (
                clerk_ticket(server.url, server.tokens.clerk, ticket["id"])["print_outcome"]
                == "printed"
            ),
            timeout=5000,
        )
        kiosk.click(qtbot, "done")
        assert kiosk.state.screen is Screen.LANGUAGE and kiosk.state.ticket is None

    def test_live_waiting_count_follows_the_server(self, server, make_kiosk, qtbot) -> None:
        kiosk = make_kiosk(server)
        before = kiosk.state.category("koseki").waiting
        httpx.post(
            f"{server.url}/api/v1/tickets",
            json={"category_id": "koseki", "language": "ja"},
            headers={"Authorization": f"Bearer {server.tokens.kiosk}"},
        ).raise_for_status()
        qtbot.waitUntil(lambda: kiosk.state.category("koseki").waiting == before + 1, timeout=5000)
        kiosk.click(qtbot, "lang-ja")
        assert (
            f"{before + 1}人待ち"
            in kiosk.window.findChild(QPushButton, "category-koseki").accessibleName()
        )


class TestIdle:
    def test_idle_wipes_everything_the_visitor_entered(self, server, make_kiosk, qtbot) -> None:
        kiosk = make_kiosk(server)
        kiosk.click(qtbot, "lang-en")
        kiosk.click(qtbot, "pref-large_text")
        kiosk.click(qtbot, "category-certificates")
        kiosk.click(qtbot, "assistance")
        assert kiosk.state.assistance and kiosk.state.preferences.large_text
        kiosk.time.advance(52)
        kiosk.controller.tick()
        assert kiosk.text("idle") == text("en", "idle_warning")
        kiosk.time.advance(9)
        kiosk.controller.tick()
        state = kiosk.state
        assert (state.screen, state.language, state.category_id) == (Screen.LANGUAGE, "ja", None)
        assert not state.assistance and not state.preferences.large_text
        assert kiosk.window.findChild(QPushButton, "lang-en")


class TestClosures:
    def test_closed_office_shows_the_closed_screen(self, closed_server, make_kiosk, qtbot) -> None:
        kiosk = make_kiosk(closed_server)
        qtbot.waitUntil(lambda: not kiosk.state.office_open, timeout=5000)
        assert "本日は閉庁日です" in kiosk.text("closed-banner")
        kiosk.click(qtbot, "lang-en")
        assert kiosk.state.notice is Notice.OFFICE_CLOSED
        assert kiosk.text("notice") == "The office is closed today."
        assert kiosk.text("ask-staff") == text("en", "ask_staff")

    def test_closed_category_shows_why(self, server, make_kiosk, qtbot) -> None:
        kiosk = make_kiosk(server)
        kiosk.click(qtbot, "lang-zh-Hans")
        kiosk.click(qtbot, "category-tax")
        assert kiosk.state.notice is Notice.CATEGORY_CLOSED
        assert kiosk.text("notice") == notice_text("zh-Hans", "category_closed", "reception_ended")
        kiosk.click(qtbot, "start-over")
        assert kiosk.state.screen is Screen.LANGUAGE

    def test_daily_cap_reached_while_confirming(self, server, make_kiosk, qtbot) -> None:
        kiosk = make_kiosk(server)
        kiosk.click(qtbot, "lang-en")
        kiosk.click(qtbot, "category-insurance")
        # Another kiosk takes the last ticket of the day while this visitor reads the screen.
        httpx.post(
            f"{server.url}/api/v1/tickets",
            json={"category_id": "insurance", "language": "ja"},
            headers={"Authorization": f"Bearer {server.tokens.kiosk}"},
        ).raise_for_status()
        kiosk.click(qtbot, "issue")
        wait_screen(qtbot, kiosk, Screen.NOTICE)
        assert kiosk.state.notice is Notice.DAILY_CAP and kiosk.state.ticket is None
        assert kiosk.text("notice") == text("en", "notice_daily_cap")
        # The grid then shows the procedure as closed and a tap explains why.
        kiosk.click(qtbot, "start-over")
        qtbot.waitUntil(lambda: not kiosk.state.category("insurance").open, timeout=5000)
        kiosk.click(qtbot, "lang-ja")
        kiosk.click(qtbot, "category-insurance")
        assert kiosk.text("notice") == text("ja", "notice_daily_cap")

    def test_server_gone_before_issue_means_no_number(
        self, make_kiosk, fake_printer, qtbot, tmp_path
    ) -> None:
        db_url = f"sqlite:///{tmp_path / 'gone.db'}"

        _, tokens = prepare(db_url, SystemClock(), raw=open_office())
        with server_process(db_url) as url:
            kiosk = make_kiosk(Server(url, tokens, db_url), fake_printer)
            kiosk.click(qtbot, "lang-en")
            kiosk.click(qtbot, "category-certificates")
        qtbot.waitUntil(lambda: not kiosk.state.connected, timeout=10_000)
        assert (
            kiosk.window.findChild(QLabel, "offline") is None
        )  # still on confirm: the notice comes with the tap
        kiosk.click(qtbot, "issue")
        wait_screen(qtbot, kiosk, Screen.NOTICE)
        assert kiosk.state.notice is Notice.UNREACHABLE and kiosk.state.ticket is None
        assert kiosk.text("notice") == text("en", "notice_unreachable")
        assert fake_printer.slips == []  # status queries only, no job

    def test_kiosk_started_without_a_server(self, make_kiosk, qtbot) -> None:

        kiosk = make_kiosk(
            Server(f"http://127.0.0.1:{free_port()}", Tokens(kiosk="mdgk_x"), ""), wait_ready=False
        )
        kiosk.click(qtbot, "lang-ja")
        assert kiosk.state.notice is Notice.UNREACHABLE
        assert kiosk.text("ask-staff") == "職員にお声がけください"


class TestPrinterTrouble:
    @pytest.mark.parametrize("state", ["out", "cover_open", "silent"])
    def test_printer_failure_leaves_the_number_and_qr_on_screen_and_is_reported(
        self, state, server, make_kiosk, fake_printer, qtbot
    ) -> None:
        fake_printer.state = state
        kiosk = make_kiosk(server, fake_printer)
        kiosk.click(qtbot, "lang-en")
        kiosk.click(qtbot, "category-certificates")
        kiosk.click(qtbot, "issue")
        wait_screen(qtbot, kiosk, Screen.TICKET)
        qtbot.waitUntil(lambda: kiosk.state.printing is Printing.FAILED, timeout=5000)
        ticket = kiosk.state.ticket
        assert kiosk.text("number") == ticket["number"]
        assert kiosk.text("print-status") == text("en", "printer_trouble")
        qr = kiosk.window.findChild(QLabel, "qr")
        assert qr.property("payload") == ticket["status_url"] and not qr.pixmap().isNull()
        assert fake_printer.printed == []
        qtbot.waitUntil(
            lambda: (
                clerk_ticket(server.url, server.tokens.clerk, ticket["id"])["print_outcome"]
                == "failed"
            ),
            timeout=5000,
        )

    def test_unreachable_printer(self, server, make_kiosk, qtbot) -> None:
        kiosk = make_kiosk(server, printer_url=f"tcp://127.0.0.1:{free_port()}")
        kiosk.click(qtbot, "lang-ja")
        kiosk.click(qtbot, "category-certificates")
        kiosk.click(qtbot, "issue")
        qtbot.waitUntil(lambda: kiosk.state.printing is Printing.FAILED, timeout=5000)
        assert kiosk.text("print-status") == text("ja", "printer_trouble")
        assert kiosk.controller.last_print.reason.value == "unreachable"


class TestCodes:
    def test_a_reservation_qr_prefills_and_issues_a_reservation_ticket(
        self, server, make_kiosk, fake_printer, qtbot, tmp_path
    ) -> None:
        kiosk = make_kiosk(server, fake_printer)
        kiosk.click(qtbot, "lang-en")
        kiosk.click(qtbot, "scan")
        code = sign_code("reservation", "mynumber", reference="R-7")
        qr_png(code, kiosk.scans / "code.png")
        wait_screen(qtbot, kiosk, Screen.CONFIRM)
        assert kiosk.state.prefill.kind == "reservation"
        assert kiosk.text("prefill") == text("en", "prefill_reservation")
        kiosk.click(qtbot, "issue")
        wait_screen(qtbot, kiosk, Screen.TICKET)
        assert kiosk.state.ticket["category_id"] == "mynumber"
        assert kiosk.state.ticket["priority"] == "reservation"
        assert kiosk.state.taps == 2

    @pytest.mark.parametrize(
        ("make", "error"),
        [
            (lambda: sign_code("reservation", "mynumber", minutes=-5), "code_expired"),
            (lambda: sign_code("reservation", "mynumber")[:-3] + "AAA", "code_tampered"),
            (lambda: "https://example.invalid/not-ours", "code_unknown"),
        ],
        ids=["expired", "tampered", "unknown"],
    )
    def test_bad_codes_get_a_message_and_change_nothing(
        self, make, error, server, make_kiosk, qtbot
    ) -> None:
        kiosk = make_kiosk(server)
        kiosk.click(qtbot, "lang-ja")
        kiosk.click(qtbot, "scan")
        qr_png(make(), kiosk.scans / "bad.png")
        qtbot.waitUntil(lambda: kiosk.state.message == error, timeout=5000)
        assert kiosk.state.screen is Screen.SCAN and kiosk.state.prefill is None
        assert kiosk.text("message").startswith(text("ja", error))
