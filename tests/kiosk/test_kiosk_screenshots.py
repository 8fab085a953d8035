"""A screenshot of every kiosk screen in Japanese and English (plus the accessibility modes and
the portrait stand). Written to $KIOSK_SCREENSHOTS_DIR when set (docs/screenshots is made
that way), else to a temporary folder; every image is checked to be a real, non-blank render."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from kiosk_helpers import qr_png, wait_screen
from PIL import Image

from kiosk_app.flow import Preferences, Printing, Screen

pytestmark = pytest.mark.usefixtures("qapp")


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("KIOSK_SCREENSHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save(kiosk, folder: Path, name: str) -> Path:
    kiosk.window.show_state()
    path = folder / f"kiosk-{name}.png"
    assert kiosk.window.grab().save(str(path))
    pixels = np.asarray(Image.open(path).convert("L"))
    assert pixels.std() > 10, f"{name} looks blank"
    return path


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_screen(language, server, make_kiosk, fake_printer, shots, qtbot) -> None:
    kiosk = make_kiosk(server, fake_printer)
    flow, now = kiosk.controller.flow, kiosk.time
    save(kiosk, shots, f"01-language-{language}")
    kiosk.click(qtbot, f"lang-{language}")
    save(kiosk, shots, f"02-procedures-{language}")
    kiosk.click(qtbot, "scan")
    qr_png("not a code of ours", kiosk.scans / "demo.png")
    qtbot.waitUntil(lambda: kiosk.state.message == "code_unknown", timeout=5000)
    qtbot.waitUntil(lambda: kiosk.controller.latest_frame() is not None, timeout=5000)
    kiosk.window.update_preview()
    save(kiosk, shots, f"03-scan-rejected-{language}")
    kiosk.click(qtbot, "back")
    kiosk.click(qtbot, "category-certificates")
    save(kiosk, shots, f"04-confirm-{language}")
    flow.confirm(now())  # render the in-between screen without sending the request
    save(kiosk, shots, f"05-issuing-{language}")
    flow.start_over(now())
    kiosk.window.show_state()
    kiosk.click(qtbot, f"lang-{language}")
    kiosk.click(qtbot, "category-certificates")
    kiosk.click(qtbot, "issue")
    wait_screen(qtbot, kiosk, Screen.TICKET)
    qtbot.waitUntil(lambda: kiosk.state.printing is Printing.PRINTED, timeout=5000)
    save(kiosk, shots, f"06-ticket-{language}")
    flow.print_finished(False, now())
    save(kiosk, shots, f"07-ticket-printer-trouble-{language}")
    for code, name in [
        ("office_closed", "08-notice-office-closed"),
        ("category_closed", "09-notice-category-closed"),
        ("daily_cap_reached", "10-notice-daily-cap"),
        ("server_unreachable", "11-notice-unreachable"),
    ]:
        flow.start_over(now())
        flow.choose_language(language, now())
        flow.issue_failed(code, now())
        save(kiosk, shots, f"{name}-{language}")
    flow.start_over(now())
    flow.choose_language(language, now())
    kiosk.time.advance(55)
    save(kiosk, shots, f"12-idle-warning-{language}")


def test_accessibility_modes_and_portrait(server, make_kiosk, shots, qtbot) -> None:
    kiosk = make_kiosk(server)
    flow, now = kiosk.controller.flow, kiosk.time
    flow.choose_language("ja", now())
    for name, prefs in [
        ("high-contrast", Preferences(high_contrast=True)),
        ("large-text", Preferences(large_text=True)),
        ("low-position", Preferences(low_position=True)),
    ]:
        flow.set_preferences(prefs, now())
        save(kiosk, shots, f"20-{name}-ja")
        if name == "low-position":
            # Wheelchair height: every control is in the lower half of the screen.
            from PySide6.QtCore import QPoint
            from PySide6.QtWidgets import QPushButton

            half = kiosk.window.height() / 2
            tops = [
                b.mapTo(kiosk.window, QPoint(0, 0)).y()
                for b in kiosk.window.findChildren(QPushButton)
            ]
            assert tops and min(tops) >= half, (min(tops), half)
    flow.set_preferences(Preferences(), now())
    kiosk.window.resize(1080, 1920)
    qtbot.wait(50)
    save(kiosk, shots, "21-portrait-procedures-ja")
    assert flow.state.screen is Screen.PROCEDURES


# Peak states (40+ waiting, six procedures, ticket C-012) in large text, high contrast and the
# languages with the longest words; built from the pure flow, no server (see kiosk_layout).
PEAK_SHOTS = {
    ("ja", True, True): (
        "language",
        "procedures",
        "confirm",
        "ticket",
        "card-pin-last-try",
        "request-form",
    ),
    ("en", True, False): ("procedures", "confirm", "ticket", "unsure"),
    ("ja-easy", True, False): ("procedures", "confirm", "ticket", "unsure"),
    ("pt", True, False): ("procedures", "ticket"),
    ("vi", False, False): ("procedures",),
}


@pytest.mark.parametrize(("language", "large", "contrast"), list(PEAK_SHOTS))
def test_peak_states_in_large_text(language, large, contrast, shots, qtbot) -> None:
    from kiosk_layout import new_flow, peak_states

    from kiosk_app.client import KioskClient
    from kiosk_app.ui.controller import KioskController
    from kiosk_app.ui.window import KioskWindow

    flow = new_flow(language, Preferences(large_text=large, high_contrast=contrast))
    controller = KioskController(
        flow, KioskClient("http://127.0.0.1:9", "t"), None, clock=lambda: flow.last_touch
    )
    window = KioskWindow(controller, dpi=96)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    wanted = PEAK_SHOTS[(language, large, contrast)]
    mode = ("large" if large else "normal") + ("-contrast" if contrast else "")
    for name, _screen in peak_states(flow, language):
        if name not in wanted:
            continue
        window.show_state()
        qtbot.wait(20)  # buttons re-wrap to their width, then the layout settles
        path = shots / f"kiosk-40-peak-{name}-{mode}-{language}.png"
        assert window.grab().save(str(path))
        assert np.asarray(Image.open(path).convert("L")).std() > 10, f"{path.name} is blank"
