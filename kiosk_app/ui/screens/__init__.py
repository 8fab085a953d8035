"""One module per kiosk screen; each builds its widgets from the state into a `Page`.

A page has a body, which scrolls when large text or a long language needs more room than the
screen has, and an action row that stays at the bottom, always in reach (back, issue, done).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QVBoxLayout

from kiosk_app.flow import Screen, State

if TYPE_CHECKING:
    from kiosk_app.ui.window import KioskWindow


@dataclass(frozen=True)
class Page:
    body: QVBoxLayout  # scrolls
    actions: QVBoxLayout  # always visible, under the body


Builder = Callable[["KioskWindow", State, Page], None]


def builders() -> dict[Screen, Builder]:
    """The builder of every screen (imported late: the screen modules import `Page`)."""
    from kiosk_app.ui.screens import (
        card,
        confirm,
        notice,
        procedures,
        request_form,
        scan,
        start,
        ticket,
    )

    return {
        Screen.LANGUAGE: start.language,
        Screen.PROCEDURES: procedures.procedures,
        Screen.UNSURE: procedures.unsure,
        Screen.SCAN: scan.scan,
        Screen.CONFIRM: confirm.confirm,
        Screen.ISSUING: confirm.issuing,
        Screen.TICKET: ticket.ticket,
        Screen.NOTICE: notice.notice,
        Screen.CARD_FORMS: card.card_forms,
        Screen.CARD_INSERT: card.card_insert,
        Screen.CARD_CONSENT: card.card_consent,
        Screen.CARD_PIN: card.card_pin,
        Screen.CARD_READING: card.card_reading,
        Screen.CARD_LOCKED: card.card_locked,
        Screen.REQUEST_FORM: request_form.request_form,
    }
