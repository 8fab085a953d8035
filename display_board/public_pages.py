"""What the queue server and the public relay both serve to residents, written once: the ticket
page's service worker headers and the page of the unsubscribe link in notices and reminders.

The relay cannot import the queue server (三層分離, an import-linter contract), and the two must
not drift: a worker served with another scope header on the relay, or a link page that acts on
GET on one of them, would break only there.
"""

from __future__ import annotations

from html import escape
from typing import Literal

import visitor_text

#: The service worker of the ticket pages and the booking page (`/sw.js`): it may take any ticket
#: page (`/t/…`) or `/reserve` as its scope, and as a worker it loads nothing and talks only to
#: its own origin.
SERVICE_WORKER_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; connect-src 'self'",
    "Service-Worker-Allowed": "/",  # /t/… and /reserve: no common prefix below the root
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
SERVICE_WORKER_TYPE = "text/javascript; charset=utf-8"

#: The unsubscribe page: no script, no style, no image; its one form posts to its own URL. The
#: token is in the URL, so no referrer leaves it and nothing keeps a copy.
UNSUBSCRIBE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}
#: A reminder e-mail's token starts so (queue_server/service/reminding.py, REMINDER_TOKEN_PREFIX;
#: a unit test keeps the two equal); a ticket notice's token never does.
REMINDER_TOKEN_PREFIX = "r."

PageState = Literal["ask", "stopped", "received", "unavailable"]
_SENTENCES: dict[PageState, tuple[str, str]] = {  # (a ticket's notices, a booking's reminders)
    "ask": ("reserve.unsubscribe_ask", "reserve.unsubscribe_ask_reminder"),
    "stopped": ("reserve.notify_stopped", "reserve.reminder_stopped"),
    "received": ("reserve.unsubscribe_received", "reserve.unsubscribe_received"),
    "unavailable": ("reserve.unsubscribe_unavailable", "reserve.unsubscribe_unavailable"),
}


def _html_lang(lang: str) -> str:
    return "ja" if lang == "ja-easy" else lang


def page_language(requested: str | None) -> str | None:
    """The `?lang=` of an unsubscribe link when it is a visitor language, else None."""
    return requested if requested in visitor_text.LANGUAGES else None


def unsubscribe_page(token: str, state: PageState, lang: str | None = None) -> str:
    """The page of the link `…/notify/unsubscribe/{token}?lang=…`: on GET (`ask`) one button
    that POSTs to the same URL, so a mail scanner that follows links stops nothing; after the
    POST, what happened. In the visitor's language (`lang`, from the link), with Japanese below
    for the family or staff helping; every language when the link has none. The token itself is
    not written into the page."""
    key = _SENTENCES[state][1 if token.startswith(REMINDER_TOKEN_PREFIX) else 0]
    if lang is None:
        shown: tuple[str, ...] = tuple(visitor_text.LANGUAGES)
        heading: tuple[str, ...] = ("ja", "en")
    else:
        shown = (lang,) if lang == "ja" else (lang, "ja")
        heading = (lang,)
    lines = "".join(
        f'<p lang="{_html_lang(one)}">{escape(visitor_text.text(one, key))}</p>' for one in shown
    )
    form = ""
    if state == "ask":
        label = " / ".join(
            escape(visitor_text.text(one, "reserve.unsubscribe_button")) for one in heading
        )
        form = f'<form method="post"><button type="submit">{label}</button></form>'
    title = " / ".join(
        escape(visitor_text.text(one, "reserve.unsubscribe_title")) for one in heading
    )
    page_lang = _html_lang(heading[0])
    return (
        f'<!doctype html><html lang="{page_lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head><body><main><h1>{title}</h1>{lines}{form}</main>"
        "</body></html>"
    )
