"""Confirming the procedure (with the help request and the card button), then issuing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout

from kiosk_app.flow import State
from kiosk_app.i18n import text, wait_text

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def confirm(view: KioskWindow, state: State, page: Page) -> None:
    lang = state.language
    category = state.category()
    if category is None:
        return
    box = page.body
    box.addWidget(view.label(text(lang, "confirm_title"), "title", "title"))
    if state.prefill is not None:
        key = f"prefill_{state.prefill.kind}"
        if key in ("prefill_reservation", "prefill_preapplication"):
            box.addWidget(view.label(text(lang, key), "banner", "prefill"))
    name = category.name(lang)
    shown = f"{category.prefix}　{name}" if category.prefix else name
    box.addWidget(view.label(shown, "title", "category"))
    if lang != "ja" and category.name("ja") != name:
        box.addWidget(view.label(category.name("ja"), "muted"))
    if category.waiting is not None:
        figures = wait_text(
            lang, category.estimate_minutes, category.estimate_low, category.estimate_high
        )
        box.addWidget(view.label(f"{text(lang, 'waiting_people', n=category.waiting)}・{figures}"))
    box.addStretch(1)
    flow = view.controller.flow
    if state.prefill is None and not state.card_unusable and flow.card_forms():
        box.addWidget(
            view.button(text(lang, "card_button"), "card-request", view.controller.start_card)
        )
    if state.prefill is None:
        assistance = view.button(
            text(lang, "assistance_on" if state.assistance else "assistance"),
            "assistance",
            view.controller.toggle_assistance,
            "toggle",
        )
        assistance.setCheckable(True)
        assistance.setChecked(state.assistance)
        box.addWidget(assistance)
        # What the help request does, said before it is chosen (the server calls such
        # tickets first, and the clerk's list marks them 要支援).
        box.addWidget(view.label(text(lang, "assistance_note"), "muted", "assistance-note"))
    row = QHBoxLayout()
    row.addWidget(view.button(text(lang, "back"), "back", view.controller.back), 1)
    row.addWidget(
        view.button(text(lang, "issue_button"), "issue", view.controller.confirm, "primary"), 2
    )
    page.actions.addLayout(row)


def issuing(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    box.addStretch(1)
    box.addWidget(view.label(text(state.language, "issuing"), "title", "issuing"))
    box.addStretch(1)
