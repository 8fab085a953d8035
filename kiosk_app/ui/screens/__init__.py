"""One module per kiosk screen; each builds its widgets from the state into the given box."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QVBoxLayout

from kiosk_app.flow import Screen, State
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

if TYPE_CHECKING:
    from kiosk_app.ui.window import KioskWindow

Builder = Callable[["KioskWindow", State, QVBoxLayout], None]

BUILDERS: dict[Screen, Builder] = {
    Screen.LANGUAGE: start.language,
    Screen.PROCEDURES: procedures.procedures,
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
