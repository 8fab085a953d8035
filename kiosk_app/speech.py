"""What the voice guide says on each screen: pure (no Qt, no audio), so it is tested as text."""

from __future__ import annotations

from kiosk_app.flow import Printing, Screen, State
from kiosk_app.i18n import notice_text, speakable_number, text


def speech_for(state: State) -> str:
    """What the voice guide says for a screen: its title and the essentials."""
    lang = state.language
    screen = state.screen
    if screen is Screen.LANGUAGE:
        return text(lang, "choose_language")
    if screen is Screen.PROCEDURES:
        general = state.general_category
        names = [c.name(lang) for c in state.categories if c.open and c.id != general]
        names.append(text(lang, "unsure_tile"))  # the last tile, for everyone else
        return f"{text(lang, 'choose_procedure')}. {'、'.join(names)}"
    if screen is Screen.SCAN:
        return text(lang, state.message or "scan_title")
    if screen is Screen.CONFIRM:
        category = state.category()
        name = category.name(lang) if category else ""
        return f"{text(lang, 'confirm_title')}. {name}. {text(lang, 'issue_button')}"
    if screen is Screen.ISSUING:
        return text(lang, "issuing")
    if screen is Screen.TICKET and state.ticket is not None:
        number = speakable_number(lang, str(state.ticket.get("number", "")))
        line = "printer_trouble" if state.printing is Printing.FAILED else "take_slip"
        return f"{text(lang, 'your_number')}: {number}. {text(lang, line)}"
    if screen is Screen.UNSURE:
        return f"{text(lang, 'unsure_title')}. {text(lang, 'unsure_body')}"
    if screen is Screen.NOTICE:
        headline = notice_text(lang, state.notice or "", state.notice_reason)
        return f"{headline} {text(lang, 'ask_staff')}"
    # Card screens: the title only (never card data or PIN digits).
    card_titles = {
        Screen.CARD_FORMS: "card_choose_form",
        Screen.CARD_INSERT: state.message or "card_insert_title",
        Screen.CARD_CONSENT: "card_consent_purpose",
        Screen.CARD_PIN: "card_pin_title",
        Screen.CARD_READING: state.message or "card_reading",
        Screen.CARD_LOCKED: "card_locked_title",
    }
    if screen is Screen.REQUEST_FORM:
        return f"{text(lang, 'take_card')}. {text(lang, 'request_title')}"
    key = card_titles.get(screen)
    return text(lang, key) if key else ""
