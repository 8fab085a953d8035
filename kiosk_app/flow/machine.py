"""`Flow`: the visit from language to ticket; see the package docstring for the screens."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kiosk_app.flow.card import CardSteps
from kiosk_app.flow.model import (
    CARD_SCREENS,
    CLOSED_NOTICES,
    CODE_ERRORS,
    LANGUAGES,
    Command,
    IssueTicket,
    Notice,
    Preferences,
    Prefill,
    Printing,
    PrintTicket,
    ReleaseCard,
    Screen,
    State,
    Timeouts,
    VerifyCode,
    category_from_office,
    forms_from_api,
    offered_languages,
)


class Flow(CardSteps):
    """The visitor flow; every method returns the commands the shell must carry out."""

    def __init__(
        self,
        timeouts: Timeouts | None = None,
        now: float = 0.0,
        card_reader: bool = False,
        general_category: str | None = None,
    ) -> None:
        self.timeouts = timeouts or Timeouts()
        self.state = State(card_reader=card_reader, general_category=general_category)
        self.last_touch = now
        self._last_status: Mapping[str, Any] | None = None

    # --- server data -------------------------------------------------------------------------

    def office_loaded(self, office: Mapping[str, Any]) -> None:
        """Take names, hours and categories from `GET /api/v1/office`."""
        known = {c.id: c for c in self.state.categories}
        categories = [
            category_from_office(raw, known.get(raw["id"])) for raw in office.get("categories", [])
        ]
        self.state = replace(
            self.state,
            office_loaded=True,
            connected=True,
            office_open=bool(office.get("open", True)),
            hours_today=office.get("hours_today"),
            office_names=dict(office.get("names", {})),
            languages=offered_languages(office.get("languages")),
            categories=tuple(categories),
        )
        if self._last_status is not None:
            # The live feed's snapshot may have come first; it is not repeated until something
            # changes, so its figures are applied to the categories now.
            self.status_received(self._last_status)

    def forms_loaded(self, raw: Mapping[str, Any]) -> None:
        """Take the request forms' questions from `GET /api/v1/forms` (no data, only schemas)."""
        forms = forms_from_api(raw)
        self.state = replace(self.state, forms=forms)

    def status_received(self, status: Mapping[str, Any]) -> None:
        """Take live waiting counts, estimates and open/closed from a snapshot or status."""
        self._last_status = status
        figures = {c["id"]: c for c in status.get("categories", [])}
        categories = []
        for category in self.state.categories:
            raw = figures.get(category.id)
            if raw is None:
                categories.append(category)
                continue
            categories.append(category.with_status(raw))
        office_open = bool(status.get("open", self.state.office_open))
        reasons = {c.closed_reason for c in categories if c.closed_reason}
        office_reason = next((r for r in ("closed_day", "outside_hours") if r in reasons), None)
        self.state = replace(
            self.state,
            categories=tuple(categories),
            office_open=office_open,
            office_closed_reason=None if office_open else office_reason,
            connected=True,
        )

    def connection_changed(self, connected: bool) -> None:
        """The live feed went down or came back; figures are hidden while it is down."""
        if connected:
            self.state = replace(self.state, connected=True)
            return
        categories = tuple(
            replace(c, waiting=None, estimate_minutes=None, estimate_low=None, estimate_high=None)
            for c in self.state.categories
        )
        self.state = replace(self.state, connected=False, categories=categories)

    # --- visitor actions ---------------------------------------------------------------------

    def touch(self, now: float) -> None:
        """Any touch, key or scan keeps the visit alive."""
        self.last_touch = now

    def set_preferences(self, preferences: Preferences, now: float) -> None:
        self.touch(now)
        self.state = replace(self.state, preferences=preferences)

    def choose_language(self, language: str, now: float) -> list[Command]:
        """Start a visit in `language`; closed or unreachable offices show their notice."""
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        self.touch(now)
        self.state = replace(self.state, language=language, taps=0, message=None)
        if not self.state.office_loaded:
            self._notice(Notice.UNREACHABLE, None)
        elif not self.state.office_open:
            self._notice(Notice.OFFICE_CLOSED, self.state.office_closed_reason)
        else:
            self.state = replace(self.state, screen=Screen.PROCEDURES)
        return []

    def choose_category(self, category_id: str, now: float) -> list[Command]:
        """Pick a procedure: a closed one explains why, an open one asks to confirm."""
        self.touch(now)
        category = self.state.category(category_id)
        if self.state.screen is not Screen.PROCEDURES or category is None:
            return []
        taps = self.state.taps + 1
        if not category.open:
            self.state = replace(self.state, taps=taps, category_id=category_id)
            self._notice(
                CLOSED_NOTICES.get(category.closed_reason or "", Notice.CATEGORY_CLOSED),
                category.closed_reason,
            )
            return []
        self.state = replace(
            self.state, screen=Screen.CONFIRM, category_id=category_id, taps=taps, message=None
        )
        return []

    def choose_unsure(self, now: float) -> list[Command]:
        """ "I don't know / something else": the office's general category when it has one
        (a ticket like any other), else a screen that sends the visitor to the reception."""
        self.touch(now)
        if self.state.screen is not Screen.PROCEDURES:
            return []
        general = self.state.general()
        if general is not None:
            return self.choose_category(general.id, now)
        self.state = replace(
            self.state, screen=Screen.UNSURE, taps=self.state.taps + 1, message=None
        )
        return []

    def open_scan(self, now: float) -> list[Command]:
        """The optional prefill step: scan a reservation or pre-application code."""
        self.touch(now)
        if self.state.screen is Screen.PROCEDURES:
            self.state = replace(
                self.state, screen=Screen.SCAN, taps=self.state.taps + 1, message=None
            )
        return []

    def scanned(self, text: str, now: float) -> list[Command]:
        """A code was read; it is verified by the server before anything changes."""
        self.touch(now)
        accepting = (Screen.PROCEDURES, Screen.SCAN, Screen.CONFIRM)
        if self.state.screen not in accepting or self.state.verifying or not text.strip():
            return []
        self.state = replace(self.state, verifying=True, message="checking_code")
        return [VerifyCode(text.strip())]

    def code_verified(self, code: Mapping[str, Any], text: str, now: float) -> list[Command]:
        """The server vouched for the code: prefill and go to confirm."""
        self.touch(now)
        self.state = replace(self.state, verifying=False, message=None)
        prefill = Prefill(
            source="code",
            kind=str(code.get("kind", "")),
            category_id=str(code.get("category_id", "")),
            priority=str(code.get("priority") or "normal"),
            reference=str(code.get("reference") or ""),
            expires_at=str(code.get("expires_at") or ""),
            code=text,
        )
        return self.prefilled(prefill, now)

    def prefilled(self, prefill: Prefill, now: float) -> list[Command]:
        """Any prefill source (a scanned code, a MyNumber card) lands here."""
        self.touch(now)
        category = self.state.category(prefill.category_id)
        if category is None:
            self.state = replace(self.state, screen=Screen.SCAN, message="code_unknown")
            return []
        self.state = replace(self.state, prefill=prefill, category_id=category.id)
        if not category.open:
            self._notice(
                CLOSED_NOTICES.get(category.closed_reason or "", Notice.CATEGORY_CLOSED),
                category.closed_reason,
            )
            return []
        if prefill.source == "card" and self.state.form(prefill.form) is not None:
            self.state = replace(self.state, screen=Screen.REQUEST_FORM, form_id=prefill.form)
            return []
        self.state = replace(self.state, screen=Screen.CONFIRM)
        return []

    def code_rejected(self, error_code: str, now: float) -> list[Command]:
        """Unknown, tampered, expired or used: say so on the scan screen and change nothing."""
        self.touch(now)
        key = error_code if error_code in CODE_ERRORS else "code_unknown"
        self.state = replace(self.state, verifying=False, message=key)
        if self.state.screen is Screen.PROCEDURES:
            self.state = replace(self.state, screen=Screen.SCAN)
        return []

    def toggle_assistance(self, now: float) -> list[Command]:
        """Ask for help at the counter (served first, like the server's assistance priority)."""
        self.touch(now)
        if self.state.screen is Screen.CONFIRM:
            self.state = replace(self.state, assistance=not self.state.assistance)
        return []

    def confirm(self, now: float) -> list[Command]:
        """Issue the ticket for the selected procedure (with the request, from the form)."""
        self.touch(now)
        category = self.state.category()
        screen = self.state.screen
        if screen not in (Screen.CONFIRM, Screen.REQUEST_FORM) or category is None:
            return []
        prefill = self.state.prefill
        request: dict[str, Any] | None = None
        if screen is Screen.REQUEST_FORM:
            if prefill is None or prefill.form is None or self.request_missing():
                return []
            request = {"form": prefill.form, "fields": self.request_fields()}
        priority = "assistance" if self.state.assistance else "normal"
        self.state = replace(
            self.state, screen=Screen.ISSUING, taps=self.state.taps + 1, message=None
        )
        return [
            IssueTicket(
                category_id=category.id,
                language=self.state.language,
                priority=priority,
                code=prefill.code if prefill else None,
                request=request,
            )
        ]

    def ticket_issued(self, ticket: Mapping[str, Any], now: float) -> list[Command]:
        """Show the number and QR at once; the slip prints meanwhile."""
        self.touch(now)
        category = self.state.category(str(ticket.get("category_id") or self.state.category_id))
        if self.state.screen is not Screen.ISSUING or category is None:
            return []
        # The request went to the server with the ticket: the kiosk forgets it now.
        self.state = replace(
            self.state,
            screen=Screen.TICKET,
            ticket=dict(ticket),
            printing=Printing.PENDING,
            prefill=None,
        )
        return [PrintTicket(ticket=dict(ticket), category=category, language=self.state.language)]

    def issue_failed(self, error_code: str, now: float) -> list[Command]:
        """The server refused or could not be reached: a notice, never a made-up number."""
        self.touch(now)
        if error_code in CODE_ERRORS:
            self.state = replace(self.state, screen=Screen.SCAN, prefill=None, message=error_code)
            return []
        if error_code == "form_invalid" and self.state.form_id is not None:
            # The server disagreed with the form: back to it, answers kept, staff can help.
            self.state = replace(self.state, screen=Screen.REQUEST_FORM, message="request_invalid")
            return []
        if error_code == "server_unreachable":
            notice = Notice.UNREACHABLE
        else:
            notice = CLOSED_NOTICES.get(error_code, Notice.REFUSED)
        self._notice(notice, error_code)
        return []

    def print_finished(self, printed: bool, now: float) -> None:
        """The slip printed, or the visitor is told to take the number from the screen."""
        if self.state.screen is Screen.TICKET:
            self.state = replace(
                self.state, printing=Printing.PRINTED if printed else Printing.FAILED
            )

    def back(self, now: float) -> list[Command]:
        """One step back; from the procedures back to the language."""
        self.touch(now)
        screen = self.state.screen
        if screen in (*CARD_SCREENS, Screen.CARD_FORMS, Screen.CARD_LOCKED, Screen.REQUEST_FORM):
            return self._leave_card(Screen.CONFIRM, None)
        if screen is Screen.CONFIRM and self.state.prefill is not None:
            self.state = replace(
                self.state, screen=Screen.SCAN, prefill=None, category_id=None, assistance=False
            )
        elif screen in (Screen.CONFIRM, Screen.SCAN, Screen.UNSURE):
            self.state = replace(
                self.state,
                screen=Screen.PROCEDURES,
                prefill=None,
                category_id=None,
                assistance=False,
                message=None,
                verifying=False,
            )
        elif screen is Screen.PROCEDURES:
            self.start_over(now)
        return []

    def start_over(self, now: float) -> list[Command]:
        """Back to the start, keeping nothing the visitor entered (card data included)."""
        self.last_touch = now
        used_card = self.state.form_id is not None
        self.state = State(
            card_reader=self.state.card_reader,
            general_category=self.state.general_category,
            forms=self.state.forms,
            connected=self.state.connected,
            office_loaded=self.state.office_loaded,
            office_open=self.state.office_open,
            office_closed_reason=self.state.office_closed_reason,
            hours_today=self.state.hours_today,
            office_names=self.state.office_names,
            categories=self.state.categories,
        )
        return [ReleaseCard()] if used_card else []

    def _notice(self, notice: Notice, reason: str | None) -> None:
        self.state = replace(
            self.state,
            screen=Screen.NOTICE,
            notice=notice,
            notice_reason=reason,
            prefill=None,
            form_id=None,
            card_tries=None,
            verifying=False,
            message=None,
        )

    # --- time --------------------------------------------------------------------------------

    def timeout(self) -> float | None:
        """Seconds of inactivity the current screen allows, or None (start, or waiting)."""
        screen = self.state.screen
        if screen is Screen.LANGUAGE and self.state.preferences == Preferences():
            return None
        if screen is Screen.ISSUING:
            return None  # the request has its own timeout; its outcome ends this screen
        if screen is Screen.CARD_LOCKED:
            return self.timeouts.notice
        if screen is Screen.TICKET:
            return self.timeouts.ticket
        if screen is Screen.NOTICE:
            return self.timeouts.notice
        return self.timeouts.idle

    def idle_remaining(self, now: float) -> float | None:
        """Seconds until the wipe, or None when this screen never times out."""
        limit = self.timeout()
        return None if limit is None else max(0.0, limit - (now - self.last_touch))

    def warning_due(self, now: float) -> bool:
        """True when the visitor should be told the screen is about to reset."""
        remaining = self.idle_remaining(now)
        return (
            remaining is not None
            and remaining <= self.timeouts.warning
            and self.state.screen not in (Screen.TICKET, Screen.NOTICE, Screen.CARD_LOCKED)
        )

    def tick(self, now: float) -> bool:
        """Advance time; returns True when the idle timeout wiped the visit."""
        remaining = self.idle_remaining(now)
        if remaining is not None and remaining <= 0:
            self.start_over(now)
            return True
        return False
