"""The procedures grid, each tile with its ticket letter and live figures; and the screen for
visitors who do not know which procedure they need."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QGridLayout, QHBoxLayout

from kiosk_app.flow import Category, State
from kiosk_app.i18n import text, wait_text

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def tile_text(state: State, category: Category, title: str | None = None) -> str:
    """A tile's lines: letter and name, the Japanese name (as on the board) when it differs,
    and the live figures."""
    lang = state.language
    name = title or category.name(lang)
    lines = [f"{category.prefix}　{name}" if category.prefix else name]
    japanese = category.name("ja")
    if title is None and lang != "ja" and japanese != name:
        lines.append(japanese)
    if not category.open:
        lines.append(text(lang, "tile_closed"))
    elif category.waiting is not None:
        wait = wait_text(lang, category.estimate_minutes)
        lines.append(f"{text(lang, 'waiting_people', n=category.waiting)}・{wait}")
    return "\n".join(lines)


def columns_for(view: KioskWindow, state: State) -> int:
    """Tiles per row: three at wheelchair height (fewer rows in the lower half), else two;
    large text takes one column fewer when there are three, and a portrait stand two."""
    prefs = state.preferences
    landscape = view.width() > view.height()
    columns = 3 if prefs.low_position and landscape else 2
    return columns - 1 if prefs.large_text and columns > 2 else columns


def procedures(view: KioskWindow, state: State, page: Page) -> None:
    lang = state.language
    box = page.body
    box.addWidget(view.label(text(lang, "choose_procedure"), "title", "title"))
    if not state.connected:
        box.addWidget(view.label(text(lang, "figures_offline"), "muted", "offline"))
    grid = QGridLayout()
    grid.setSpacing(8 if state.preferences.low_position else 16)
    columns = columns_for(view, state)
    general = state.general()
    tiles = [c for c in state.categories if general is None or c.id != general.id]
    for i, category in enumerate(tiles):
        button = view.button(
            tile_text(state, category),
            f"category-{category.id}",
            partial(view.controller.choose_category, category.id),
            "" if category.open else "closed",
        )
        grid.addWidget(button, i // columns, i % columns)
    # 「わからない・その他」: the general category's tile when the office has one.
    unsure_text = text(lang, "unsure_tile")
    if general is not None:
        unsure_text = tile_text(state, general, unsure_text)
    unsure = view.button(unsure_text, "category-unsure", view.controller.choose_unsure)
    grid.addWidget(unsure, len(tiles) // columns, len(tiles) % columns)
    for column in range(columns):
        grid.setColumnStretch(column, 1)
    box.addLayout(grid)
    box.addStretch(1)
    row = QHBoxLayout()
    row.addWidget(view.button(text(lang, "back"), "back", view.controller.back), 1)
    row.addWidget(view.button(text(lang, "have_code"), "scan", view.controller.open_scan), 3)
    page.actions.addLayout(row)


def unsure(view: KioskWindow, state: State, page: Page) -> None:
    lang = state.language
    box = page.body
    box.addStretch(1)
    box.addWidget(view.label(text(lang, "unsure_title"), "title", "title"))
    box.addWidget(view.label(text(lang, "unsure_body"), "banner", "ask-staff"))
    if lang != "ja":
        # Japanese underneath, for the staff member the visitor shows it to.
        box.addWidget(view.label(text("ja", "unsure_body"), "muted"))
    box.addStretch(1)
    row = QHBoxLayout()
    row.addWidget(view.button(text(lang, "back"), "back", view.controller.back), 1)
    row.addWidget(
        view.button(text(lang, "start_over"), "start-over", view.controller.start_over), 1
    )
    page.actions.addLayout(row)
