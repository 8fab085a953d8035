"""Why no ticket can be issued now, in the visitor's language and in Japanese for staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk_app.flow import Notice, State
from kiosk_app.i18n import notice_text, text

if TYPE_CHECKING:
    from kiosk_app.ui.screens import Page
    from kiosk_app.ui.window import KioskWindow


def notice(view: KioskWindow, state: State, page: Page) -> None:
    lang = state.language
    box = page.body
    box.addStretch(1)
    headline = notice_text(lang, state.notice or "", state.notice_reason)
    box.addWidget(view.label(headline, "title", "notice"))
    if state.notice is Notice.OFFICE_CLOSED and state.hours_today:
        box.addWidget(view.label(text(lang, "hours_today", hours=state.hours_today)))
    box.addWidget(view.label(text(lang, "ask_staff"), "alert", "ask-staff"))
    if lang != "ja":
        # Japanese underneath, so staff called over read the same message.
        japanese = notice_text("ja", state.notice or "", state.notice_reason)
        box.addWidget(view.label(f"{japanese} {text('ja', 'ask_staff')}", "muted"))
    box.addStretch(1)
    page.actions.addWidget(
        view.button(text(lang, "start_over"), "start-over", view.controller.start_over)
    )
