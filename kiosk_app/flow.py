"""The kiosk's visitor flow as a pure state machine: no Qt, no I/O, time passed in.

Screens: language -> procedures -> (optional prefill: scan a code) -> confirm -> issuing ->
ticket -> back to language. From confirm, a procedure with request forms offers the MyNumber card
(書かない窓口): form -> insert card -> consent -> PIN (tries left shown first) -> reading ->
request form (card items prefilled, the rest picked by touch) -> issuing.

Every visitor action is a method that takes the current monotonic time and returns the commands
the shell must run (issue a ticket, verify a code, print a slip, talk to the card); their outcomes
come back as other methods. The UI only renders `Flow.state`. Card data lives only in the
prefill (never in a command's repr) and is wiped on completion, timeout and card removal.

A plain ticket takes two taps after the language (procedure, then "issue"), under the issue's
limit of three. An idle visitor is returned to the start with everything they entered wiped
(language, choice, prefilled data, display preferences): the next visitor must not see it.
The kiosk never makes up a number: without the server there is a notice, not a ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

LANGUAGES: tuple[str, ...] = ("ja", "en", "zh-Hans", "ko", "vi", "pt", "ja-easy")


def offered_languages(declared: object) -> tuple[str, ...]:
    """The kiosk languages an office offers, in the kiosk's order; Japanese always, and every
    language when the office (or an older server) does not say."""
    if not isinstance(declared, list | tuple) or not declared:
        return LANGUAGES
    return tuple(lang for lang in LANGUAGES if lang == "ja" or lang in declared)


class Screen(StrEnum):
    LANGUAGE = "language"
    PROCEDURES = "procedures"
    SCAN = "scan"
    CONFIRM = "confirm"
    ISSUING = "issuing"
    TICKET = "ticket"
    NOTICE = "notice"
    CARD_FORMS = "card_forms"  # which request form, when a procedure offers several
    CARD_INSERT = "card_insert"
    CARD_CONSENT = "card_consent"
    CARD_PIN = "card_pin"
    CARD_READING = "card_reading"  # the tries query or the VERIFY and read are running
    CARD_LOCKED = "card_locked"
    REQUEST_FORM = "request_form"
    UNSURE = "unsure"  # "I don't know / something else", when no category takes such visitors


# Screens during which the card must stay in the reader; removing it there starts over.
CARD_SCREENS: tuple[Screen, ...] = (
    Screen.CARD_INSERT,
    Screen.CARD_CONSENT,
    Screen.CARD_PIN,
    Screen.CARD_READING,
)
# Why a card step failed (from the controller), each with its own message.
CARD_FAILURES: tuple[str, ...] = (
    "wrong_pin",
    "locked",
    "removed",
    "not_mynumber",
    "unreadable",
)


class Notice(StrEnum):
    """Why no ticket can be issued right now; each has its own translated screen."""

    OFFICE_CLOSED = "office_closed"
    CATEGORY_CLOSED = "category_closed"
    DAILY_CAP = "daily_cap_reached"
    NUMBER_RANGE = "number_range_exhausted"
    UNREACHABLE = "server_unreachable"
    REFUSED = "refused"  # the server refused the kiosk itself (token, configuration)


class Printing(StrEnum):
    NONE = "none"
    PENDING = "pending"
    PRINTED = "printed"
    FAILED = "failed"


# Server closed_reason / error code -> the notice a visitor sees.
_CLOSED_NOTICES: dict[str, Notice] = {
    "closed_day": Notice.OFFICE_CLOSED,
    "outside_hours": Notice.OFFICE_CLOSED,
    "office_closed": Notice.OFFICE_CLOSED,
    "reception_ended": Notice.CATEGORY_CLOSED,
    "category_closed": Notice.CATEGORY_CLOSED,
    "daily_cap_reached": Notice.DAILY_CAP,
    "number_range_exhausted": Notice.NUMBER_RANGE,
}
# Code errors keep the visitor on the scan screen with a message; nothing else changes.
CODE_ERRORS: tuple[str, ...] = ("code_unknown", "code_tampered", "code_expired", "code_used")
PRIORITIES: tuple[str, ...] = ("normal", "assistance", "reservation")


@dataclass(frozen=True)
class Category:
    """A procedure as the grid shows it: names from the office, figures from the live status."""

    id: str
    names: Mapping[str, str]
    waiting_area: Mapping[str, str]
    prefix: str = ""  # the ticket letter (A-F), shown on the tile as on the board and slip
    open: bool = True
    closed_reason: str | None = None
    waiting: int | None = None
    estimate_minutes: int | None = None
    estimate_low: int | None = None
    estimate_high: int | None = None
    forms: tuple[str, ...] = ()  # request forms the office lets visitors prefill

    def name(self, language: str) -> str:
        """The name in `language`, falling back to Japanese."""
        return self.names.get(language) or self.names.get("ja") or self.id


def label(labels: Mapping[str, str], language: str) -> str:
    """A form label in `language`; other languages fall back to English, then Japanese."""
    fallback = ("ja", "en") if language.startswith("ja") else ("en", "ja")
    for key in (language, *fallback):
        if labels.get(key):
            return labels[key]
    return ""


@dataclass(frozen=True)
class FormChoice:
    value: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class FormField:
    """One question of a request form, as `GET /api/v1/forms` describes it."""

    name: str
    kind: str  # text | date | int | choice | bool | lines
    labels: Mapping[str, str]
    required: bool = True
    choices: tuple[FormChoice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    from_card: str | None = None


@dataclass(frozen=True)
class RequestForm:
    id: str
    labels: Mapping[str, str]
    fields: tuple[FormField, ...]
    notes: Mapping[str, str] = field(default_factory=dict)

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


# Kinds a visitor answers by touch; free text is left to the clerk.
_TOUCH_KINDS = ("choice", "int", "bool")
# Fields the kiosk never offers: a copy showing the individual number is mailed and needs the
# clerk, and the kiosk keeps away from the number altogether.
_NOT_AT_KIOSK = frozenset({"include_individual_number"})
# Answers that would need a typed name (someone else's record) are not offered at the kiosk.
_TYPED_RELATIONS = frozenset({"proxy"})


def fiscal_year(today: date) -> int:
    """The Japanese fiscal year (年度) of `today`: April to March."""
    return today.year if today.month >= 4 else today.year - 1


@dataclass(frozen=True)
class Prefill:
    """What a scanned code (now) or a card reader (later) brings to the request.

    `source` says where it came from ("code", later "card"); `fields` is for data a later
    source prefills for the clerk (it stays in memory and is wiped with the rest on idle).
    """

    source: str
    kind: str
    category_id: str
    priority: str = "normal"
    reference: str = ""
    expires_at: str = ""
    code: str | None = None
    form: str | None = None  # the request form `fields` belong to (card prefill)
    fields: Mapping[str, object] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Card fields are personal data: an accidental log line must not show them.
        return f"Prefill(source={self.source!r}, kind={self.kind!r}, form={self.form!r})"


@dataclass(frozen=True)
class IssueTicket:
    category_id: str
    language: str
    priority: str
    code: str | None = None
    # {"form": id, "fields": {...}}: personal data, kept out of repr (and so out of logs)
    request: Mapping[str, Any] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class VerifyCode:
    text: str


@dataclass(frozen=True)
class CheckCard:
    """Is a card in the reader? (no APDU; polled while a card step waits for the visitor)"""


@dataclass(frozen=True)
class ReadCardTries:
    """Ask the card how many PIN tries are left (costs no try)."""


@dataclass(frozen=True)
class VerifyAndReadCard:
    """One VERIFY with the visitor's PIN, then read the four items; never retried."""

    pin: str = field(repr=False)


@dataclass(frozen=True)
class ReleaseCard:
    """Close the card session (done, timed out, or the visitor left the card steps)."""


@dataclass(frozen=True)
class PrintTicket:
    ticket: Mapping[str, Any]
    category: Category
    language: str


Command = (
    IssueTicket
    | VerifyCode
    | PrintTicket
    | CheckCard
    | ReadCardTries
    | VerifyAndReadCard
    | ReleaseCard
)


@dataclass(frozen=True)
class Preferences:
    """Display and voice choices a visitor makes on any screen; wiped with the visit."""

    large_text: bool = False
    high_contrast: bool = False
    low_position: bool = False  # wheelchair height: every control in the lower half
    voice: bool = False


@dataclass(frozen=True)
class State:
    screen: Screen = Screen.LANGUAGE
    language: str = "ja"
    preferences: Preferences = Preferences()
    category_id: str | None = None
    assistance: bool = False
    prefill: Prefill | None = None
    verifying: bool = False
    message: str | None = None  # an i18n key shown on the current screen (code errors)
    ticket: Mapping[str, Any] | None = None
    printing: Printing = Printing.NONE
    notice: Notice | None = None
    notice_reason: str | None = None  # the server's closed_reason, for a precise sentence
    taps: int = 0  # taps since the language was chosen (the three-tap promise)
    form_id: str | None = None  # the request form chosen for the card
    card_tries: int | None = None  # PIN tries left, as the card said before the PIN pad
    card_unusable: bool = False  # locked this visit: the card is not offered again
    fiscal_year: int | None = None  # today's 年度, the latest a year question offers
    card_swap: bool = False  # the card in the reader failed: wait until it is taken off
    # Kept across visits: the kiosk's own reader and what the server said.
    card_reader: bool = False
    # The category that takes visitors who do not know which procedure they need (総合案内),
    # when the office has one; without it "I don't know" sends them to the reception staff.
    general_category: str | None = None
    connected: bool = False
    office_loaded: bool = False
    office_open: bool = True
    office_closed_reason: str | None = None
    hours_today: str | None = None
    office_names: Mapping[str, str] = field(default_factory=dict)
    # The visitor languages the office offers (its file's `languages`), in the kiosk's order.
    languages: tuple[str, ...] = LANGUAGES
    categories: tuple[Category, ...] = ()
    forms: tuple[RequestForm, ...] = ()

    def category(self, category_id: str | None = None) -> Category | None:
        """The selected category (or the one named)."""
        wanted = category_id or self.category_id
        return next((c for c in self.categories if c.id == wanted), None)

    def general(self) -> Category | None:
        """The category for visitors who do not know which procedure they need, if any."""
        return self.category(self.general_category) if self.general_category else None

    def form(self, form_id: str | None = None) -> RequestForm | None:
        """The chosen request form (or the one named)."""
        wanted = form_id or self.form_id
        return next((f for f in self.forms if f.id == wanted), None)


@dataclass(frozen=True)
class Timeouts:
    """Seconds without a touch before the kiosk goes back to the start, per screen."""

    idle: float = 60.0
    ticket: float = 30.0
    notice: float = 30.0
    warning: float = 10.0  # how long before the wipe the visitor is warned


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Flow:
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
        categories = []
        for raw in office.get("categories", []):
            old = known.get(raw["id"])
            categories.append(
                Category(
                    id=raw["id"],
                    names=dict(raw.get("names", {})),
                    waiting_area=dict(raw.get("waiting_area") or {}),
                    prefix=str(raw.get("prefix") or ""),
                    open=bool(raw.get("open_now", True)),
                    closed_reason=raw.get("closed_reason"),
                    waiting=old.waiting if old else None,
                    estimate_minutes=old.estimate_minutes if old else None,
                    estimate_low=old.estimate_low if old else None,
                    estimate_high=old.estimate_high if old else None,
                    forms=tuple(str(f) for f in raw.get("forms") or ()),
                )
            )
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
        forms = []
        for spec in raw.get("forms", []):
            fields = tuple(
                FormField(
                    name=str(f["name"]),
                    kind=str(f["kind"]),
                    labels=dict(f.get("labels") or {}),
                    required=bool(f.get("required", True)),
                    choices=tuple(
                        FormChoice(str(c["value"]), dict(c.get("labels") or {}))
                        for c in f.get("choices") or ()
                    ),
                    minimum=_int_or_none(f.get("minimum")),
                    maximum=_int_or_none(f.get("maximum")),
                    from_card=f.get("from_card"),
                )
                for f in spec.get("fields", [])
            )
            forms.append(
                RequestForm(
                    str(spec["id"]),
                    dict(spec.get("labels") or {}),
                    fields,
                    dict(spec.get("notes") or {}),
                )
            )
        self.state = replace(self.state, forms=tuple(forms))

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
            categories.append(
                replace(
                    category,
                    open=bool(raw.get("open", category.open)),
                    closed_reason=raw.get("closed_reason"),
                    waiting=_int_or_none(raw.get("waiting")),
                    estimate_minutes=_int_or_none(raw.get("estimated_wait_minutes")),
                    estimate_low=_int_or_none(raw.get("estimate_low_minutes")),
                    estimate_high=_int_or_none(raw.get("estimate_high_minutes")),
                )
            )
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
                _CLOSED_NOTICES.get(category.closed_reason or "", Notice.CATEGORY_CLOSED),
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
                _CLOSED_NOTICES.get(category.closed_reason or "", Notice.CATEGORY_CLOSED),
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
            notice = _CLOSED_NOTICES.get(error_code, Notice.REFUSED)
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

    # --- MyNumber card (書かない窓口) ------------------------------------------------------

    def card_forms(self) -> tuple[RequestForm, ...]:
        """The selected procedure's forms a visitor can complete by card and touch alone."""
        category = self.state.category()
        if category is None or not self.state.card_reader:
            return ()
        forms = (self.state.form(form_id) for form_id in category.forms)
        return tuple(f for f in forms if f is not None and self._fits_kiosk(f))

    def _fits_kiosk(self, form: RequestForm) -> bool:
        # Only forms whose required answers come from the card or a touch: the 印鑑登録証
        # number (inkan) is typed, so that form stays with the clerk.
        if not any(f.from_card for f in form.fields):
            return False
        for item in form.fields:
            if item.from_card or not item.required:
                continue
            if item.kind not in _TOUCH_KINDS or item.name in _NOT_AT_KIOSK:
                return False
            if item.kind == "choice" and not self.choices(item, form):
                return False
        return True

    def touch_fields(self, form: RequestForm | None = None) -> tuple[FormField, ...]:
        """The questions the visitor answers on the request form, in the form's order."""
        form = form or self.state.form()
        if form is None:
            return ()
        return tuple(
            f
            for f in form.fields
            if f.kind in _TOUCH_KINDS and not f.from_card and f.name not in _NOT_AT_KIOSK
        )

    def choices(self, item: FormField, form: RequestForm | None = None) -> tuple[FormChoice, ...]:
        """The answers offered for a choice: none that would need a typed name."""
        form = form or self.state.form()
        offered = []
        for choice in item.choices:
            if item.name == "relation":
                if choice.value in _TYPED_RELATIONS:
                    continue
                # Someone else in the household is named unless the whole household is asked
                # for; without a scope question that name would have to be typed.
                if choice.value == "household" and (form is None or form.field("scope") is None):
                    continue
            offered.append(choice)
        return tuple(offered)

    def bounds(self, item: FormField) -> tuple[int, int]:
        """The stepper's range: the form's, and no fiscal year that has not started."""
        low = item.minimum if item.minimum is not None else 1
        high = item.maximum if item.maximum is not None else max(low, 99)
        if item.name.endswith("_year") and self.state.fiscal_year is not None:
            high = min(high, self.state.fiscal_year)
        return low, max(low, high)

    def request_missing(self) -> tuple[str, ...]:
        """Required answers not given yet (the issue button waits for them)."""
        prefill = self.state.prefill
        form = self.state.form()
        if prefill is None or form is None:
            return ()
        missing = [
            f.name
            for f in form.fields
            if f.required and prefill.fields.get(f.name) in (None, "", [])
        ]
        return tuple(missing)

    def start_card(self, now: float) -> list[Command]:
        """ "Make the request with my MyNumber card", from the confirm screen."""
        self.touch(now)
        forms = self.card_forms()
        if self.state.screen is not Screen.CONFIRM or not forms or self.state.card_unusable:
            return []
        taps = self.state.taps + 1
        if len(forms) > 1:
            self.state = replace(self.state, screen=Screen.CARD_FORMS, taps=taps, message=None)
            return []
        self.state = replace(self.state, taps=taps)
        return self.choose_form(forms[0].id, now)

    def choose_form(self, form_id: str, now: float) -> list[Command]:
        """The request form to prefill; then the card is asked for."""
        self.touch(now)
        if self.state.screen not in (Screen.CONFIRM, Screen.CARD_FORMS):
            return []
        if form_id not in {f.id for f in self.card_forms()}:
            return []
        self.state = replace(
            self.state,
            screen=Screen.CARD_INSERT,
            form_id=form_id,
            prefill=None,
            card_tries=None,
            message=None,
        )
        return [CheckCard()]

    def card_present(self, present: bool, now: float) -> list[Command]:
        """The reader's answer to `CheckCard`: a card arrived, or it was taken away."""
        screen = self.state.screen
        if screen is Screen.CARD_INSERT and self.state.card_swap:
            # The card that failed is still there: no loop back into the same failure.
            if not present:
                self.state = replace(self.state, card_swap=False)
            return []
        if screen is Screen.CARD_INSERT and present:
            self.touch(now)  # placing the card is the visitor's action
            self.state = replace(self.state, screen=Screen.CARD_CONSENT, message=None)
            return []
        if screen in (Screen.CARD_CONSENT, Screen.CARD_PIN) and not present:
            return self.card_failed("removed", None, now)
        return []

    def card_consent(self, now: float) -> list[Command]:
        """The visitor agreed to the purpose; the card is asked for its tries left first."""
        self.touch(now)
        if self.state.screen is not Screen.CARD_CONSENT:
            return []
        self.state = replace(self.state, screen=Screen.CARD_READING, message="card_checking")
        return [ReadCardTries()]

    def card_tries(self, tries_left: int, now: float) -> list[Command]:
        """Tries left, before any PIN is asked for: none left sends the visitor on."""
        if self.state.screen is not Screen.CARD_READING or self.state.card_tries is not None:
            return []
        if tries_left <= 0:
            return self._card_locked()
        self.state = replace(
            self.state, screen=Screen.CARD_PIN, card_tries=tries_left, message=None
        )
        return []

    def submit_pin(self, pin: str, now: float) -> list[Command]:
        """One VERIFY per tap on OK; the PIN passes through to the command and is not kept."""
        self.touch(now)
        if self.state.screen is not Screen.CARD_PIN:
            return []  # a second tap while the first VERIFY runs sends nothing
        if len(pin) != 4 or not pin.isascii() or not pin.isdigit():
            self.state = replace(self.state, message="pin_four_digits")
            return []
        self.state = replace(self.state, screen=Screen.CARD_READING, message="card_reading")
        return [VerifyAndReadCard(pin)]

    def card_read(self, items: Mapping[str, str], today: date, now: float) -> list[Command]:
        """The four items arrived: they fill the form's card fields (sex only if asked)."""
        form = self.state.form()
        category = self.state.category()
        if self.state.screen is not Screen.CARD_READING or form is None or category is None:
            return [ReleaseCard()]
        fields: dict[str, object] = {}
        for item in form.fields:
            value = items.get(item.from_card or "")
            if value:
                if item.kind == "date" and len(value) == 8 and value.isdigit():
                    value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
                fields[item.name] = value
        fiscal = fiscal_year(today)
        for item in self.touch_fields(form):
            if item.kind == "int":
                low, high = item.minimum or 1, item.maximum or 99
                # Year questions start at the current fiscal year; counts at their minimum.
                start = fiscal if item.name.endswith("_year") else low
                fields[item.name] = min(max(start, low), high)
            elif item.kind == "bool":
                fields[item.name] = False
            elif item.kind == "choice":
                offered = self.choices(item, form)
                if len(offered) == 1 or (item.name == "relation" and offered[:1]):
                    fields[item.name] = offered[0].value  # 本人 first; one answer needs no tap
        self.touch(now)
        prefill = Prefill(
            source="card", kind="card", category_id=category.id, form=form.id, fields=fields
        )
        self.state = replace(self.state, card_tries=None, message=None, fiscal_year=fiscal)
        return [ReleaseCard(), *self.prefilled(prefill, now)]

    def card_failed(self, failure: str, tries_left: int | None, now: float) -> list[Command]:
        """A card step failed: wrong PIN, locked, removed, not a MyNumber card, unreadable."""
        if self.state.screen not in CARD_SCREENS:
            return []
        if failure == "wrong_pin" and tries_left is not None and tries_left > 0:
            self.state = replace(
                self.state, screen=Screen.CARD_PIN, card_tries=tries_left, message="wrong_pin"
            )
            return []
        if failure in ("wrong_pin", "locked"):
            return self._card_locked()
        key = failure if failure in CARD_FAILURES else "unreadable"
        # Removed, not ours or unreadable: start the card steps again, nothing kept.
        self.state = replace(
            self.state,
            screen=Screen.CARD_INSERT,
            prefill=None,
            card_tries=None,
            message=f"card_{key}",
            card_swap=key != "removed",
        )
        return [ReleaseCard(), CheckCard()]

    def _card_locked(self) -> list[Command]:
        self.state = replace(
            self.state,
            screen=Screen.CARD_LOCKED,
            prefill=None,
            card_tries=None,
            card_unusable=True,
            message=None,
        )
        return [ReleaseCard()]

    def continue_without_card(self, now: float) -> list[Command]:
        """Locked (or any card step): a plain ticket for the same procedure instead."""
        self.touch(now)
        return self._leave_card(Screen.CONFIRM, None)

    def _leave_card(self, screen: Screen, message: str | None) -> list[Command]:
        self.state = replace(
            self.state,
            screen=screen,
            prefill=None,
            form_id=None,
            card_tries=None,
            message=message,
        )
        return [ReleaseCard()]

    def set_field(self, name: str, value: object, now: float) -> list[Command]:
        """A touch answer on the request form; anything the form does not offer is ignored."""
        self.touch(now)
        prefill, form = self.state.prefill, self.state.form()
        if self.state.screen is not Screen.REQUEST_FORM or prefill is None or form is None:
            return []
        item = next((f for f in self.touch_fields(form) if f.name == name), None)
        if item is None:
            return []
        fields = dict(prefill.fields)
        if item.kind == "choice":
            if value not in {c.value for c in self.choices(item, form)}:
                return []
        elif item.kind == "int":
            low, high = self.bounds(item)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                return []
        elif not isinstance(value, bool):
            return []
        fields[name] = value
        self._household_rules(form, fields, changed=name)
        self.state = replace(self.state, prefill=replace(prefill, fields=fields), message=None)
        return []

    @staticmethod
    def _household_rules(form: RequestForm, fields: dict[str, object], changed: str) -> None:
        # 本人のみ means the card holder's own record (scope "some", members = the card name);
        # a household member's request covers the whole household, so no name is typed.
        if form.field("scope") is None:
            return
        if changed == "relation" and fields.get("relation") == "household":
            fields["scope"] = "household"
        if changed == "scope" and fields.get("scope") == "some":
            fields["relation"] = "self"
        if fields.get("scope") == "some":
            name = next((fields.get(f.name) for f in form.fields if f.from_card == "name"), None)
            fields["members"] = [name] if isinstance(name, str) else []
        else:
            fields.pop("members", None)

    def request_fields(self) -> dict[str, object]:
        """The answers as sent to the server."""
        prefill = self.state.prefill
        return dict(prefill.fields) if prefill else {}

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
