"""The first screen: the office, the language buttons, and whether the office is open."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGridLayout

from kiosk_app.flow import State
from kiosk_app.i18n import LANGUAGE_NAMES, notice_text, text

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def office_name(state: State) -> str:
    names = state.office_names
    return names.get(state.language) or names.get("ja") or ""


def language(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    box.setSpacing(8)
    box.addWidget(view.label(office_name(state) or "受付 / Reception", "muted"))
    titles = " / ".join(text(lang, "choose_language") for lang in ("ja", "en"))
    box.addWidget(view.label(titles, "title", "title"))
    if state.office_loaded and not state.office_open:
        reason = state.office_closed_reason
        closed = " / ".join(notice_text(lang, "office_closed", reason) for lang in ("ja", "en"))
        box.addWidget(view.label(closed, "alert", "closed-banner"))
    grid = QGridLayout()
    grid.setSpacing(16)
    # Two rows in landscape: every language stays in view beside the settings, in large text too.
    columns = 2 if view.height() > view.width() else 4
    for i, lang in enumerate(state.languages):
        button = view.button(
            LANGUAGE_NAMES[lang],
            f"lang-{lang}",
            partial(view.controller.choose_language, lang),
            "primary" if lang == "ja" else "",
        )
        grid.addWidget(button, i // columns, i % columns)
    box.addLayout(grid)
    box.addStretch(1)
