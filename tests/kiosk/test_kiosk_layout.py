"""Every kiosk screen at 1280x800, in every language, normal and large text, with and without
high contrast: no text needs more room than it is given, and the ticket number is whole."""

from __future__ import annotations

from typing import Any

import pytest
from kiosk_layout import TICKET, new_flow, office_json, peak_states, text_overflows, visible_rect
from PySide6.QtWidgets import QLabel, QWidget

from kiosk_app.client import KioskClient
from kiosk_app.flow import LANGUAGES, Flow, Preferences, Screen, Timeouts

pytestmark = pytest.mark.usefixtures("qapp")
SIZE = (1280, 800)


def settle(qtbot: Any, window: Any) -> None:
    """Let the layout converge: buttons re-wrap their text to their width, then relayout."""
    before = None
    for _ in range(8):
        qtbot.wait(1)
        now = [(w.objectName(), w.geometry()) for w in window.findChildren(QWidget)]
        if now == before:
            return
        before = now


def _window(qtbot: Any, flow: Any, size: tuple[int, int]) -> Any:
    from kiosk_app.ui.controller import KioskController
    from kiosk_app.ui.window import KioskWindow

    # Never started: no server, no devices; the window renders what the flow says.
    controller = KioskController(
        flow, KioskClient("http://127.0.0.1:9", "t"), None, clock=lambda: flow.last_touch
    )
    window = KioskWindow(controller, dpi=96)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    return window


@pytest.mark.parametrize("high_contrast", [False, True], ids=["normal", "contrast"])
@pytest.mark.parametrize("large_text", [False, True], ids=["text", "large"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_screen_fits_its_text_at_1280x800(
    qtbot: Any, language: str, large_text: bool, high_contrast: bool
) -> None:
    check_every_screen(qtbot, language, Preferences(large_text, high_contrast), SIZE)


@pytest.mark.parametrize("language", ["ja", "pt"])
def test_a_portrait_stand_in_large_text(qtbot: Any, language: str) -> None:
    check_every_screen(qtbot, language, Preferences(large_text=True), (1080, 1920))


def check_every_screen(
    qtbot: Any, language: str, prefs: Preferences, size: tuple[int, int]
) -> None:
    """Every screen at `size`: no text needs more room than it has; the number is whole."""
    flow = new_flow(language, prefs)
    window = _window(qtbot, flow, size)
    problems = []
    screens = []
    for name, screen in peak_states(flow, language):
        assert flow.state.screen is screen, name
        window.resize(*size)
        window.show_state()
        settle(qtbot, window)
        screens.append(screen.value)
        if (window.width(), window.height()) != size:
            # A layout that cannot shrink to the screen grows the window past its edge.
            problems.append(f"{name}: needs a {window.width()}x{window.height()} window")
        problems += [f"{name}: {p}" for p in text_overflows(window)]
        if name.startswith("ticket"):
            number = window.findChild(QLabel, "number")
            assert number is not None and number.text() == "C-012"
            assert visible_rect(number, window) == number.rect().translated(
                number.mapTo(window, number.rect().topLeft())
            ), f"{name}: the ticket number is cut"
    assert set(screens) == {s.value for s in Screen}
    assert not problems, "\n".join(problems)


class TestTiles:
    def test_tiles_carry_their_letter_and_never_repeat_a_name(self, qtbot: Any) -> None:
        from PySide6.QtWidgets import QPushButton

        flow = new_flow("ja-easy", Preferences())
        window = _window(qtbot, flow, SIZE)
        flow.choose_language("ja-easy", 1)
        window.show_state()
        tile = window.findChild(QPushButton, "category-mynumber")
        assert tile.accessibleName().startswith("F")
        assert tile.accessibleName().count("マイナンバーカード") == 1
        certificates = window.findChild(QPushButton, "category-certificates").accessibleName()
        assert certificates.startswith("A") and "住民票・印鑑証明" in certificates
        assert window.findChild(QPushButton, "category-unsure").accessibleName() == (
            "わからない・そのほか"
        )

    def test_the_first_screen_names_the_settings_in_every_language(self, qtbot: Any) -> None:
        from PySide6.QtWidgets import QPushButton

        from kiosk_app.i18n import text

        flow = new_flow("ja", Preferences())
        window = _window(qtbot, flow, SIZE)
        caption = window.findChild(QPushButton, "pref-large_text").plain_text()
        for language in LANGUAGES:
            assert text(language, "larger_text") in caption
        flow.choose_language("en", 1)
        window.show_state()
        assert window.findChild(QPushButton, "pref-large_text").plain_text() == "Larger text"

    def test_the_first_screen_offers_the_office_languages_only(self, qtbot: Any) -> None:
        from PySide6.QtWidgets import QPushButton

        flow = Flow(Timeouts(idle=60, ticket=30, notice=30), now=0)
        flow.office_loaded({**office_json(), "languages": ["ja", "en"]})
        window = _window(qtbot, flow, SIZE)
        offered = {b.objectName() for b in window.findChildren(QPushButton)}
        assert {"lang-ja", "lang-en"} <= offered
        assert not offered & {"lang-ko", "lang-vi", "lang-pt", "lang-zh-Hans", "lang-ja-easy"}
        caption = window.findChild(QPushButton, "pref-large_text").plain_text()
        assert "큰 글씨" not in caption and "Larger text" in caption

    def test_the_help_request_says_what_happens_next(self, qtbot: Any) -> None:
        from kiosk_app.i18n import text

        flow = new_flow("ja", Preferences())
        window = _window(qtbot, flow, SIZE)
        flow.choose_language("ja", 1)
        flow.choose_category("moving", 2)
        window.show_state()
        note = window.findChild(QLabel, "assistance-note").text()
        assert note == text("ja", "assistance_note") and "優先してお呼びします" in note
        flow.toggle_assistance(3)
        flow.confirm(4)
        flow.ticket_issued({**TICKET, "priority": "assistance"}, 5)
        window.show_state()
        assert window.findChild(QLabel, "assistance-ticket").text() == text(
            "ja", "assistance_ticket"
        )
