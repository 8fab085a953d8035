"""The optional prefill step: the camera preview and what became of the code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt

from kiosk_app.flow import State
from kiosk_app.i18n import text

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def scan(view: KioskWindow, state: State, page: Page) -> None:
    lang = state.language
    box = page.body
    box.addWidget(view.label(text(lang, "scan_title"), "title", "title"))
    box.addWidget(view.label(text(lang, "scan_hint"), "muted"))
    if state.message:
        # Above the preview: a refused code is read before the camera picture.
        role = "muted" if state.message == "checking_code" else "alert"
        message = text(lang, state.message)
        if state.message != "checking_code":
            message = f"{message} {text(lang, 'ask_staff')}"
        box.addWidget(view.label(message, role, "message"))
    view.preview = view.label("", "", "preview")
    view.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
    view.preview.setMinimumHeight(240)
    box.addWidget(view.preview, 1)
    view.update_preview()
    page.actions.addWidget(view.button(text(lang, "back"), "back", view.controller.back))
