"""The MyNumber card steps (書かない窓口): form, card, consent, PIN, reading, locked."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout

from kiosk_app.flow import State, label
from kiosk_app.i18n import text

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def message(view: KioskWindow, state: State, box: QVBoxLayout, muted: tuple[str, ...] = ()) -> None:
    if state.message:
        role = "muted" if state.message in muted else "alert"
        box.addWidget(view.label(text(state.language, state.message), role, "message"))


def card_forms(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    lang = state.language
    box.addWidget(view.label(text(lang, "card_choose_form"), "title", "title"))
    for form in view.controller.flow.card_forms():
        box.addWidget(
            view.button(
                label(form.labels, lang),
                f"form-{form.id}",
                partial(view.controller.choose_form, form.id),
            )
        )
    box.addStretch(1)
    page.actions.addWidget(view.button(text(lang, "back"), "back", view.controller.back))


def card_insert(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    lang = state.language
    box.addWidget(view.label(text(lang, "card_insert_title"), "title", "title"))
    box.addWidget(view.label(text(lang, "card_insert_hint"), "muted"))
    message(view, state, box)
    box.addStretch(1)
    page.actions.addWidget(view.button(text(lang, "back"), "back", view.controller.back))


def card_consent(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    lang = state.language
    box.addWidget(view.label(text(lang, "card_consent_title"), "title", "title"))
    box.addWidget(view.label(text(lang, "card_consent_purpose"), "banner", "purpose"))
    box.addWidget(view.label(text(lang, "card_consent_keep")))
    box.addStretch(1)
    row = QHBoxLayout()
    row.addWidget(view.button(text(lang, "back"), "back", view.controller.back), 1)
    row.addWidget(
        view.button(
            text(lang, "card_agree"), "card-agree", view.controller.card_consent, "primary"
        ),
        2,
    )
    page.actions.addLayout(row)


def card_pin(view: KioskWindow, state: State, page: Page) -> None:
    lang = state.language
    page.body.addWidget(view.label(text(lang, "card_pin_title"), "title", "title"))
    # What to know on the left, the pad on the right: both in view together, in large text too
    # (a PIN pad that scrolls away mid-entry would be a trap). A portrait stand has the height
    # to stack them, and the width a pad needs.
    portrait = view.height() > view.width()
    row = QVBoxLayout() if portrait else QHBoxLayout()
    left = QVBoxLayout()
    left.addWidget(view.label(text(lang, "card_pin_hint"), "muted"))
    tries = state.card_tries or 0
    left.addWidget(view.label(text(lang, "card_tries", n=tries), "", "card-tries"))
    if tries == 1:
        left.addWidget(view.label(text(lang, "card_last_try"), "alert", "card-last-try"))
    message(view, state, left)
    display = view.label("", "pin", "pin-display")
    display.setWordWrap(False)  # four marks on one line, as on the card's own PIN pads
    display.setAlignment(Qt.AlignmentFlag.AlignCenter)
    view.pin_display = display
    view.show_pin()
    left.addWidget(display)
    left.addStretch(1)
    row.addLayout(left, 3)
    pad = QGridLayout()
    pad.setSpacing(8)
    keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"]
    for i, key in enumerate(keys):
        if key == "clear":
            button = view.button(text(lang, "pin_clear"), "pin-clear", view.pin_clear)
        elif key == "ok":
            button = view.button(text(lang, "pin_ok"), "pin-ok", view.pin_submit, "primary")
        else:
            button = view.button(key, f"pin-{key}", partial(view.pin_digit, key))
        pad.addWidget(button, i // 3, i % 3)
    for column in range(3):
        pad.setColumnStretch(column, 1)
    row.addLayout(pad, 2)
    page.body.addLayout(row)
    page.body.addStretch(1)
    page.actions.addWidget(view.button(text(lang, "back"), "back", view.controller.back))


def card_reading(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    box.addStretch(1)
    key = state.message or "card_reading"
    box.addWidget(view.label(text(state.language, key), "title", "card-reading"))
    box.addStretch(1)


def card_locked(view: KioskWindow, state: State, page: Page) -> None:
    box = page.body
    lang = state.language
    box.addStretch(1)
    box.addWidget(view.label(text(lang, "card_locked_title"), "title", "notice"))
    box.addWidget(view.label(text(lang, "card_locked_body")))
    box.addWidget(view.label(text(lang, "ask_staff"), "alert", "ask-staff"))
    if lang != "ja":
        japanese = f"{text('ja', 'card_locked_title')}。{text('ja', 'card_locked_body')}"
        box.addWidget(view.label(japanese, "muted"))
    box.addStretch(1)
    row = QHBoxLayout()
    row.addWidget(
        view.button(text(lang, "start_over"), "start-over", view.controller.start_over), 1
    )
    row.addWidget(
        view.button(
            text(lang, "card_without"),
            "card-without",
            view.controller.continue_without_card,
            "primary",
        ),
        2,
    )
    page.actions.addLayout(row)
