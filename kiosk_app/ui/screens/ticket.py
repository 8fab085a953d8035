"""The ticket: the number, where to wait, the QR code for the phone, and the slip's fate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout

from kiosk_app.flow import Printing, State
from kiosk_app.i18n import text, wait_text
from kiosk_app.ui.widgets import qr_pixmap

if TYPE_CHECKING:
    from kiosk_app.ui.window import KioskWindow


def ticket(view: KioskWindow, state: State, box: QVBoxLayout) -> None:
    lang = state.language
    ticket = state.ticket or {}
    category = state.category(str(ticket.get("category_id", "")))
    row = QHBoxLayout()
    left = QVBoxLayout()
    left.addWidget(view.label(text(lang, "your_number"), "title"))
    number = view.label(str(ticket.get("number", "")), "number", "number")
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
        left.addWidget(view.label(f"{text(lang, 'ahead', n=ahead)}・{wait}"))
    if category is not None:
        area = category.waiting_area.get(lang) or category.waiting_area.get("ja")
        if area:
            left.addWidget(view.label(text(lang, "wait_in", area=area)))
    row.addLayout(left, 3)
    right = QVBoxLayout()
    qr = QLabel()
    qr.setObjectName("qr")
    status_url = str(ticket.get("status_url", ""))
    if status_url:
        qr.setPixmap(qr_pixmap(status_url, max(220, view.theme.target_px * 4)))
        qr.setProperty("payload", status_url)
    right.addWidget(qr)
    right.addWidget(view.label(text(lang, "follow_on_phone"), "muted"))
    row.addLayout(right, 2)
    box.addLayout(row, 1)
    if state.printing is Printing.FAILED:
        box.addWidget(view.label(text(lang, "printer_trouble"), "alert", "print-status"))
    elif state.printing is Printing.PRINTED:
        box.addWidget(view.label(text(lang, "take_slip"), "banner", "print-status"))
    else:
        box.addWidget(view.label(text(lang, "printing"), "muted", "print-status"))
    box.addWidget(
        view.button(text(lang, "done_button"), "done", view.controller.start_over, "primary")
    )
