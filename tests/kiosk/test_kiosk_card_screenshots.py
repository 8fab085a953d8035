"""Screenshots of the MyNumber card screens in Japanese and English (docs/screenshots/kiosk-3x-*),
written to $KIOSK_SCREENSHOTS_DIR when set; each image is checked to be a real render."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from kiosk_helpers import wait_screen
from PIL import Image

from kiosk_app.devices.card.sim import SimulatedMyNumberCard
from kiosk_app.devices.card.station import CardStation
from kiosk_app.flow import Screen

pytestmark = pytest.mark.usefixtures("qapp")


def shoot(kiosk, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("KIOSK_SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    kiosk.window.show_state()
    target = folder / f"kiosk-{name}.png"
    assert kiosk.window.grab().save(str(target))
    assert np.asarray(Image.open(target).convert("L")).std() > 10, f"{name} is blank"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_card_screens(language, server, make_kiosk, qtbot, tmp_path) -> None:
    card = SimulatedMyNumberCard(tries=2)
    kiosk = make_kiosk(server, card=CardStation("sim://", simulator=card))
    flow, now = kiosk.controller.flow, kiosk.time
    qtbot.waitUntil(lambda: kiosk.state.forms != (), timeout=10_000)
    card.remove()
    kiosk.click(qtbot, f"lang-{language}")
    kiosk.click(qtbot, "category-certificates")
    shoot(kiosk, f"30-card-confirm-{language}", tmp_path)
    kiosk.click(qtbot, "card-request")
    shoot(kiosk, f"31-card-insert-{language}", tmp_path)
    card.insert()
    wait_screen(qtbot, kiosk, Screen.CARD_CONSENT)
    shoot(kiosk, f"32-card-consent-{language}", tmp_path)
    kiosk.click(qtbot, "card-agree")
    wait_screen(qtbot, kiosk, Screen.CARD_PIN)
    kiosk.click(qtbot, "pin-5")
    kiosk.click(qtbot, "pin-5")
    shoot(kiosk, f"33-card-pin-{language}", tmp_path)
    kiosk.click(qtbot, "pin-clear")
    for digit in "0000":
        kiosk.click(qtbot, f"pin-{digit}")
    kiosk.click(qtbot, "pin-ok")
    qtbot.waitUntil(lambda: kiosk.state.card_tries == 1, timeout=5000)
    shoot(kiosk, f"34-card-pin-last-try-{language}", tmp_path)
    for digit in "1234":
        kiosk.click(qtbot, f"pin-{digit}")
    kiosk.click(qtbot, "pin-ok")
    wait_screen(qtbot, kiosk, Screen.REQUEST_FORM)
    flow.set_field("scope", "household", now())
    flow.set_field("purpose", "bank", now())
    shoot(kiosk, f"35-card-request-form-{language}", tmp_path)
    flow.start_over(now())
    flow.choose_language(language, now())
    flow.choose_category("certificates", now())
    flow.start_card(now())
    flow.card_present(True, now())
    flow.card_consent(now())
    shoot(kiosk, f"36-card-reading-{language}", tmp_path)
    flow.card_tries(0, now())
    shoot(kiosk, f"37-card-locked-{language}", tmp_path)
    flow.start_over(now())
