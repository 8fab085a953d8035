"""The ticket: the number, where to wait, the QR code for the phone, and the slip's fate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout

from kiosk_app.flow import Printing, State
from kiosk_app.i18n import text, wait_text
from kiosk_app.ui.widgets import qr_pixmap

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def ticket(view: KioskWindow, state: State, page: Page) -> None:
    lang = state.language
    ticket = state.ticket or {}
    category = state.category(str(ticket.get("category_id", "")))
    box = page.body
    row = QHBoxLayout()
    left = QVBoxLayout()
    left.addWidget(view.label(text(lang, "your_number"), "title"))
    # The number never wraps ("C-" / "012") and keeps the height its glyphs need.
    number = view.label(str(ticket.get("number", "")), "number", "number")
    number.setWordWrap(False)
    number.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    left.addWidget(number)
    if category is not None:
        left.addWidget(view.label(category.name(lang), "", "category"))
    ahead = ticket.get("ahead")
    if isinstance(ahead, int):
        wait = wait_text(
            lang,
            ticket.get("estimated_wait_minutes"),
            ticket.get("estimate_low_minutes"),
            ticket.get("estimate_high_minutes"),
        )
        left.addWidget(view.label(f"{text(lang, 'ahead', n=ahead)}・{wait}", "", "ahead"))
    if category is not None:
        area = category.waiting_area.get(lang) or category.waiting_area.get("ja")
        if area:
            left.addWidget(view.label(text(lang, "wait_in", area=area), "", "wait-in"))
    if state.assistance or ticket.get("priority") == "assistance":
        left.addWidget(view.label(text(lang, "assistance_ticket"), "banner", "assistance-ticket"))
    left.addStretch(1)
    row.addLayout(left, 3)
    right = QVBoxLayout()
    qr = QLabel()
    qr.setObjectName("qr")
    qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
    status_url = str(ticket.get("status_url", ""))
    if status_url:
        qr.setPixmap(qr_pixmap(status_url, max(220, view.theme.target_px * 4)))
        qr.setProperty("payload", status_url)
    right.addWidget(qr)
    right.addWidget(view.label(text(lang, "follow_on_phone"), "muted"))
    right.addStretch(1)
    row.addLayout(right, 2)
    box.addLayout(row)
    box.addStretch(1)
    if state.printing is Printing.FAILED:
        status = view.label(text(lang, "printer_trouble"), "alert", "print-status")
    elif state.printing is Printing.PRINTED:
        status = view.label(text(lang, "take_slip"), "banner", "print-status")
    else:
        status = view.label(text(lang, "printing"), "muted", "print-status")
    page.actions.addWidget(status)
    page.actions.addWidget(
        view.button(text(lang, "done_button"), "done", view.controller.start_over, "primary")
    )
