"""The procedures grid, with the live waiting count and wait of each."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout

from kiosk_app.flow import State
from kiosk_app.i18n import text, wait_text

if TYPE_CHECKING:
    from kiosk_app.ui.window import KioskWindow


def procedures(view: KioskWindow, state: State, box: QVBoxLayout) -> None:
    lang = state.language
    box.addWidget(view.label(text(lang, "choose_procedure"), "title", "title"))
    if not state.connected:
        box.addWidget(view.label(text(lang, "figures_offline"), "muted", "offline"))
    low = state.preferences.low_position
    grid = QGridLayout()
    grid.setSpacing(8 if low else 16)
    columns = 3 if low and view.width() > view.height() else 2  # fewer rows when low
    for i, category in enumerate(state.categories):
        lines = [category.name(lang)]
        if lang != "ja":
            lines.append(category.name("ja"))
        if not category.open:
            lines.append(text(lang, "tile_closed"))
        elif category.waiting is not None:
            wait = wait_text(lang, category.estimate_minutes)
            lines.append(f"{text(lang, 'waiting_people', n=category.waiting)}・{wait}")
        button = view.button(
            "\n".join(lines),
            f"category-{category.id}",
            partial(view.controller.choose_category, category.id),
            "" if category.open else "closed",
        )
        grid.addWidget(button, i // columns, i % columns)
    box.addLayout(grid, 1)
    row = QHBoxLayout()
    row.addWidget(view.button(text(lang, "back"), "back", view.controller.back), 1)
    row.addWidget(view.button(text(lang, "have_code"), "scan", view.controller.open_scan), 3)
    box.addLayout(row)
