"""Every kiosk screen at a peak, built from the pure flow (no server), and a layout oracle.

`peak_states` drives a real `Flow` through every screen with the demo office's six procedures,
peak figures (40+ waiting) and a ticket C-012. `text_overflows` walks the window's widgets and
reports every label or button whose text needs more room than its geometry gives it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QLabel, QWidget

from kiosk_app.flow import Flow, Preferences, Printing, Screen, Timeouts
from queue_server.adapters.office_file import DEMO_OFFICE, read_office_file
from queue_server.domain.forms import FORMS
from queue_server.service.form_words import form_schema

CARD_ITEMS = {
    "name": "試験　花子",
    "address": "東京都千代田区霞が関１－２－３",
    "birth": "19900401",
    "sex": "2",
}
PEAK = {  # category id -> (waiting, minutes, low, high)
    "certificates": (14, 18, 12, 26),
    "koseki": (9, 35, 25, 50),
    "moving": (12, 48, 35, 70),
    "insurance": (6, 27, 18, 40),
    "tax": (3, 9, 6, 14),
    "mynumber": (7, 41, 30, 58),
}


def office_json() -> dict[str, Any]:
    """The demo office as `GET /api/v1/office` describes it."""
    raw = read_office_file(DEMO_OFFICE)
    categories = []
    for c in raw["categories"]:
        forms = c.get("form") or []
        categories.append(
            {
                "id": c["id"],
                "names": c["names"],
                "prefix": c["prefix"],
                "waiting_area": c.get("waiting_area") or {},
                "forms": [forms] if isinstance(forms, str) else forms,
                "open_now": True,
            }
        )
    return {
        "open": True,
        "names": raw["office"]["names"],
        "hours_today": "08:30-17:15",
        "categories": categories,
    }


def status_json() -> dict[str, Any]:
    return {
        "open": True,
        "categories": [
            {
                "id": cid,
                "open": cid != "tax",
                "closed_reason": None if cid != "tax" else "reception_ended",
                "waiting": w,
                "estimated_wait_minutes": m,
                "estimate_low_minutes": lo,
                "estimate_high_minutes": hi,
            }
            for cid, (w, m, lo, hi) in PEAK.items()
        ],
    }


TICKET = {
    "id": 1,
    "number": "C-012",
    "category_id": "moving",
    "status_url": "https://madoguchi.example.jp/t/Xq3v9KpZ2mWc",
    "ahead": 11,
    "estimated_wait_minutes": 48,
    "estimate_low_minutes": 35,
    "estimate_high_minutes": 70,
    "issued_at": "2026-11-27T09:31:00+09:00",
    "priority": "assistance",
}


def new_flow(language: str, preferences: Preferences) -> Flow:
    flow = Flow(Timeouts(idle=60, ticket=30, notice=30), now=0, card_reader=True)
    flow.office_loaded(office_json())
    flow.forms_loaded({"forms": [form_schema(spec) for spec in FORMS.values()]})
    flow.status_received(status_json())
    flow.set_preferences(preferences, 0)
    return flow


def peak_states(flow: Flow, language: str) -> Iterator[tuple[str, Screen]]:
    """Move `flow` through every screen; yields a name and the screen it must be on."""
    prefs = flow.state.preferences
    yield "language", Screen.LANGUAGE
    flow.choose_language(language, 1)
    yield "procedures", Screen.PROCEDURES
    flow.choose_unsure(2)
    yield "unsure", Screen.UNSURE
    flow.back(2)
    flow.open_scan(2)
    flow.code_rejected("code_expired", 3)
    yield "scan-rejected", Screen.SCAN
    flow.back(4)
    flow.choose_category("certificates", 5)
    flow.toggle_assistance(6)
    yield "confirm", Screen.CONFIRM
    # The demo office's procedures offer one card form each; the chooser is shown as it would
    # be for several.
    flow.state = _replace(flow.state, screen=Screen.CARD_FORMS)
    yield "card-forms", Screen.CARD_FORMS
    flow.state = _replace(flow.state, screen=Screen.CONFIRM)
    flow.start_card(7)
    yield "card-insert", Screen.CARD_INSERT
    flow.card_present(True, 8)
    yield "card-consent", Screen.CARD_CONSENT
    flow.card_consent(9)
    yield "card-reading", Screen.CARD_READING
    flow.card_tries(1, 10)
    yield "card-pin-last-try", Screen.CARD_PIN
    flow.submit_pin("1234", 11)
    flow.card_read(CARD_ITEMS, date(2026, 11, 27), 12)
    yield "request-form", Screen.REQUEST_FORM
    flow.back(13)
    flow.start_over(14)
    flow.set_preferences(prefs, 14)
    flow.choose_language(language, 15)
    flow.choose_category("moving", 16)
    flow.toggle_assistance(17)
    flow.confirm(18)
    yield "issuing", Screen.ISSUING
    flow.ticket_issued(TICKET, 19)
    flow.print_finished(True, 20)
    yield "ticket", Screen.TICKET
    flow.print_finished(False, 21)
    flow.state = _replace(flow.state, printing=Printing.FAILED)
    yield "ticket-printer-trouble", Screen.TICKET
    flow.start_over(22)
    flow.set_preferences(prefs, 22)
    flow.choose_language(language, 23)
    flow.choose_category("certificates", 24)
    flow.start_card(25)
    flow.card_present(True, 26)
    flow.card_consent(27)
    flow.card_tries(0, 28)
    yield "card-locked", Screen.CARD_LOCKED
    flow.start_over(29)
    flow.set_preferences(prefs, 29)
    flow.choose_language(language, 30)
    flow.issue_failed("office_closed", 31)
    yield "notice", Screen.NOTICE


def _replace(state: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(state, **changes)


def visible_rect(widget: QWidget, window: QWidget) -> QRect:
    """The part of `widget` that its ancestors (scroll viewports included) leave on screen."""
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        rect = rect.intersected(QRect(parent.mapTo(window, QPoint(0, 0)), parent.size()))
        parent = parent.parentWidget()
    return rect.intersected(window.rect())


def _in_scroll_area(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def text_overflows(window: QWidget) -> list[str]:
    """Every visible label or button whose text needs more room than it is given, and every
    one cut off by the window edge without a scroll area to reach it."""
    problems = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or widget.width() <= 0:
            continue
        name = widget.objectName() or type(widget).__name__
        if isinstance(widget, QLabel) and widget.text() and widget.pixmap().isNull():
            need = label_needs(widget)
            have = widget.contentsRect()
            if need.width() > have.width() + 1 or need.height() > have.height() + 1:
                problems.append(
                    f"label {name} {widget.text()!r}: needs {_wh(need)}, has {_wh(have)}"
                )
        elif isinstance(widget, QAbstractButton) and widget.text():
            need = widget.sizeHint()
            if need.width() > widget.width() + 1 or need.height() > widget.height() + 1:
                problems.append(
                    f"button {name} {widget.text()!r}: needs {_wh(need)}, has {_wh(widget.size())}"
                )
        else:
            continue
        if not _in_scroll_area(widget) and visible_rect(widget, window).size() != widget.size():
            problems.append(f"{name} {getattr(widget, 'text', lambda: '')()!r}: cut off the window")
    return problems


def label_needs(label: QLabel) -> QRect:
    """The room a label's text takes in its font, wrapped to its width when it wraps."""
    metrics = QFontMetrics(label.font())
    width = label.contentsRect().width()
    if label.wordWrap():
        flags = int(Qt.TextFlag.TextWordWrap) | int(label.alignment())
        return metrics.boundingRect(QRect(0, 0, width, 1_000_000), flags, label.text())
    return metrics.boundingRect(QRect(0, 0, 1_000_000, 1_000_000), 0, label.text())


def _wh(size: Any) -> str:
    return f"{size.width()}x{size.height()}"
