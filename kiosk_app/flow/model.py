"""What the kiosk flow works on: screens, notices, procedures, request forms, the commands
the shell carries out, and the visit's state. Plain data, no behaviour beyond lookups."""

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
CLOSED_NOTICES: dict[str, Notice] = {
    "closed_day": Notice.OFFICE_CLOSED,
    "outside_hours": Notice.OFFICE_CLOSED,
    "office_closed": Notice.OFFICE_CLOSED,
    "reception_ended": Notice.CATEGORY_CLOSED,
    "category_closed": Notice.CATEGORY_CLOSED,
    "daily_cap_reached": Notice.DAILY_CAP,
    "number_range_exhausted": Notice.NUMBER_RANGE,
}
# Code errors keep the visitor on the scan screen with a message; nothing else changes.
CODE_ERRORS: tuple[str, ...] = (
    "code_unknown",
    "code_tampered",
    "code_expired",
    "code_used",
    # A booked visit (来庁予約) scanned outside its check-in window, or cancelled.
    "check_in_too_early",
    "check_in_too_late",
    "reservation_closed",
)
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

    def with_status(self, raw: Mapping[str, Any]) -> Category:
        """This procedure with the live figures of a status message."""
        return replace(
            self,
            open=bool(raw.get("open", self.open)),
            closed_reason=raw.get("closed_reason"),
            waiting=int_or_none(raw.get("waiting")),
            estimate_minutes=int_or_none(raw.get("estimated_wait_minutes")),
            estimate_low=int_or_none(raw.get("estimate_low_minutes")),
            estimate_high=int_or_none(raw.get("estimate_high_minutes")),
        )


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
TOUCH_KINDS = ("choice", "int", "bool")
# Fields the kiosk never offers: a copy showing the individual number is mailed and needs the
# clerk, and the kiosk keeps away from the number altogether.
NOT_AT_KIOSK = frozenset({"include_individual_number"})
# Answers that would need a typed name (someone else's record) are not offered at the kiosk.
TYPED_RELATIONS = frozenset({"proxy"})


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


def int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def category_from_office(raw: Mapping[str, Any], old: Category | None) -> Category:
    """A procedure from `GET /api/v1/office`; live figures already received are kept."""
    return Category(
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


def forms_from_api(raw: Mapping[str, Any]) -> tuple[RequestForm, ...]:
    """The request forms' questions from `GET /api/v1/forms` (schemas only, no data)."""
    return tuple(
        RequestForm(
            str(spec["id"]),
            dict(spec.get("labels") or {}),
            tuple(
                FormField(
                    name=str(f["name"]),
                    kind=str(f["kind"]),
                    labels=dict(f.get("labels") or {}),
                    required=bool(f.get("required", True)),
                    choices=tuple(
                        FormChoice(str(c["value"]), dict(c.get("labels") or {}))
                        for c in f.get("choices") or ()
                    ),
                    minimum=int_or_none(f.get("minimum")),
                    maximum=int_or_none(f.get("maximum")),
                    from_card=f.get("from_card"),
                )
                for f in spec.get("fields", [])
            ),
            dict(spec.get("notes") or {}),
        )
        for spec in raw.get("forms", [])
    )
