"""The request form after the card: card items shown, the rest answered by touch."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QWidget,
)

from kiosk_app.flow import FormField, State, label
from kiosk_app.i18n import text

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def request_form(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    lang = state.language
    flow = view.controller.flow
    form = state.form()
    prefill = state.prefill
    if form is None or prefill is None:
        return
    fields = prefill.fields
    box.addWidget(view.label(label(form.labels, lang), "title", "title"))
    box.addWidget(view.label(text(lang, "take_card"), "banner", "take-card"))
    card_items = "　".join(
        f"{label(f.labels, lang)}: {fields[f.name]}"
        for f in form.fields
        if f.from_card and isinstance(fields.get(f.name), str)
    )
    summary = QLabel(f"{text(lang, 'request_from_card')} — {card_items}")
    summary.setObjectName("card-items")
    summary.setWordWrap(True)
    summary.setTextFormat(Qt.TextFormat.PlainText)  # card text is data, never markup
    box.addWidget(summary)
    rows = QWidget()
    grid = QGridLayout(rows)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setSpacing(8)
    questions = flow.touch_fields(form)
    line = 0
    for item in questions:
        if item.kind == "bool":
            continue
        grid.addWidget(view.label(label(item.labels, lang)), line, 0)
        grid.addLayout(field_row(view, state, item), line, 1)
        line += 1
    toggles = QHBoxLayout()  # the optional items share one row: fewer rows to scroll
    for item in questions:
        if item.kind == "bool":
            toggles.addLayout(field_row(view, state, item))
    if toggles.count():
        grid.addLayout(toggles, line, 0, 1, 2)
        line += 1
    grid.addWidget(view.label(text(lang, "request_others_note"), "muted"), line, 0, 1, 2)
    grid.setColumnStretch(1, 1)
    # A long form or large text makes the page taller than the screen: the page body
    # scrolls (the window's wide scroll bar), the issue button stays below it.
    box.addWidget(rows)
    notes = label(form.notes, lang)
    if notes:
        box.addWidget(view.label(notes, "muted", "notes"))
    missing = flow.request_missing()
    if state.message:
        message = f"{text(lang, state.message)} {text(lang, 'ask_staff')}"
        page.actions.addWidget(view.label(message, "alert", "message"))
    elif missing:  # next to the issue button it explains
        page.actions.addWidget(view.label(text(lang, "request_incomplete"), "muted", "missing"))
    row = QHBoxLayout()
    row.addWidget(view.button(text(lang, "back"), "back", view.controller.back), 1)
    issue = view.button(text(lang, "request_issue"), "issue", view.controller.confirm, "primary")
    issue.setEnabled(not missing)
    row.addWidget(issue, 2)
    page.actions.addLayout(row)


def field_row(view: KioskWindow, state: State, item: FormField) -> QHBoxLayout | QGridLayout:
    lang = state.language
    flow = view.controller.flow
    value = state.prefill.fields.get(item.name) if state.prefill else None
    row = QHBoxLayout()
    if item.kind == "int":
        low, high = flow.bounds(item)
        number = value if isinstance(value, int) else low
        minus = view.button(
            "−",
            f"field-{item.name}-minus",
            partial(view.controller.set_field, item.name, number - 1),
        )
        minus.setEnabled(number > low)
        plus = view.button(
            "+",
            f"field-{item.name}-plus",
            partial(view.controller.set_field, item.name, number + 1),
        )
        plus.setEnabled(number < high)
        shown = view.label(str(number), "title", f"field-{item.name}-value")
        shown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addWidget(minus, 1)
        row.addWidget(shown, 1)
        row.addWidget(plus, 1)
        row.addStretch(2)
        return row
    if item.kind == "bool":
        toggle = view.button(
            label(item.labels, lang),
            f"field-{item.name}",
            partial(view.controller.set_field, item.name, not bool(value)),
            "toggle",
        )
        toggle.setCheckable(True)
        toggle.setChecked(bool(value))
        row.addWidget(toggle)
        return row
    relation = state.prefill.fields.get("relation") if state.prefill else None
    grid = QGridLayout()  # long lists (purposes) wrap onto a second row
    grid.setSpacing(8)
    for i, choice in enumerate(flow.choices(item)):
        caption = label(choice.labels, lang)
        if item.name == "scope":
            # 本人のみ: the card holder's own record; the schema's "some members" wording
            # would ask for names the kiosk cannot take.
            caption = text(lang, "scope_household" if choice.value == "household" else "scope_self")
        button = view.button(
            caption,
            f"field-{item.name}-{choice.value}",
            partial(view.controller.set_field, item.name, choice.value),
            "toggle",
        )
        button.setCheckable(True)
        button.setChecked(value == choice.value)
        if item.name == "scope" and choice.value == "some" and relation == "household":
            button.setEnabled(False)
        grid.addWidget(button, i // 4, i % 4)
    return grid
