"""What a ticket slip says: a frozen model and its text lines, with no layout and no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from printer.errors import SlipDataError
from printer.texts import Language, texts_for

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass(frozen=True, slots=True)
class WaitEstimate:
    """Estimated wait in whole minutes, with an optional low/high interval."""

    minutes: int
    low: int | None = None
    high: int | None = None

    def __post_init__(self) -> None:
        values = [v for v in (self.minutes, self.low, self.high) if v is not None]
        if any(v < 0 for v in values):
            raise SlipDataError("wait minutes must not be negative")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise SlipDataError("wait interval low is above high")

    @property
    def has_interval(self) -> bool:
        """True when both interval ends are known."""
        return self.low is not None and self.high is not None


@dataclass(frozen=True, slots=True)
class Line:
    """One line of slip text in Japanese, with the visitor-language line under it when any."""

    ja: str
    local: str | None = None


@dataclass(frozen=True, slots=True)
class SlipContent:
    """Every string a renderer prints, in order; renderers decide only how it looks."""

    office: str
    number_label: Line
    number: str
    procedure: Line
    details: tuple[Line, ...]
    issued: str
    status_url: str
    scan: Line
    notice: Line


@dataclass(frozen=True, slots=True)
class Slip:
    """A numbered ticket slip (整理券) as handed to a visitor; holds no personal data."""

    office_name: str
    number: str
    procedure_ja: str
    issued_at: datetime
    status_url: str
    language: Language = Language.JA
    procedure_local: str | None = None
    people_ahead: int | None = None
    wait: WaitEstimate | None = None
    waiting_area: str | None = None  # in Japanese, the slip's first line
    # The office's names of the waiting area by language tag (ja, en, ja-easy, ...), so the
    # visitor's line (and the English fallback of a kanji-mode printer) names it in its language.
    waiting_area_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise SlipDataError("issued_at must be timezone-aware")
        if not self.number.strip():
            raise SlipDataError("number is empty")
        if not self.status_url.strip():
            raise SlipDataError("status_url is empty")
        if self.people_ahead is not None and self.people_ahead < 0:
            raise SlipDataError("people_ahead must not be negative")

    def waiting_area_in(self, language: Language) -> str | None:
        """The waiting area as the office names it in `language`, else in Japanese."""
        return self.waiting_area_names.get(language.value) or self.waiting_area

    @property
    def translated(self) -> bool:
        """True when the slip carries a second, visitor-language line."""
        return self.language is not Language.JA

    def content(self) -> SlipContent:
        """Return the slip's text lines, Japanese first and the visitor's language under it."""
        ja = texts_for(Language.JA)
        local = texts_for(self.language) if self.translated else None

        def pick(ja_text: str, local_text: str | None) -> Line:
            return Line(ja_text, local_text if local is not None else None)

        details: list[Line] = []
        if self.people_ahead is not None:
            n = self.people_ahead
            details.append(pick(ja.ahead.format(n=n), local.ahead.format(n=n) if local else None))
        details.append(
            pick(
                f"{ja.wait_label}{ja.label_sep}{format_wait(self.wait, Language.JA)}",
                (
                    f"{local.wait_label}{local.label_sep}{format_wait(self.wait, self.language)}"
                    if local
                    else None
                ),
            )
        )
        if self.waiting_area:
            details.append(
                pick(
                    f"{ja.place_label}{ja.label_sep}{self.waiting_area}",
                    (
                        f"{local.place_label}{local.label_sep}{self.waiting_area_in(self.language)}"
                        if local
                        else None
                    ),
                )
            )
        return SlipContent(
            office=self.office_name,
            number_label=pick(ja.number_label, local.number_label if local else None),
            number=self.number,
            procedure=Line(self.procedure_ja, self.procedure_local if local else None),
            details=tuple(details),
            issued=f"{format_issued(self.issued_at)} 発行",
            status_url=self.status_url,
            scan=pick(ja.scan, local.scan if local else None),
            notice=pick(ja.notice, local.notice if local else None),
        )


def format_issued(moment: datetime) -> str:
    """Show an aware time in Asia/Tokyo, e.g. 2026年11月27日 09:31."""
    local = moment.astimezone(TOKYO)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def format_wait(wait: WaitEstimate | None, language: Language) -> str:
    """Plain wait text, e.g. 約15分（10〜25分）, or the language's "not available" form."""
    t = texts_for(language)
    if wait is None:
        return t.wait_unknown
    text = t.wait_point(wait.minutes)
    if wait.low is not None and wait.high is not None:
        text += t.interval(wait.low, wait.high)
    return text


def _optional_int(ticket: Mapping[str, object], key: str) -> int | None:
    value = ticket.get(key)
    if value is None:
        return None
    # bool is an int subclass; a True wait is a bug upstream, not a minute count
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SlipDataError(f"{key} is not a number")
    return round(value)


def _required_str(ticket: Mapping[str, object], key: str) -> str:
    value = ticket.get(key)
    if not isinstance(value, str) or not value:
        raise SlipDataError(f"{key} is missing")
    return value


def slip_from_ticket(
    ticket: Mapping[str, object],
    office_name: str,
    category_names: Mapping[str, str],
    language: Language | str,
    waiting_area: str | Mapping[str, str] | None = None,
) -> Slip:
    """Build a slip from the server's ticket JSON and the category's names by language tag.

    `waiting_area` is the category's names of it by language tag (the office file's), or one
    Japanese name that both lines then show.
    """
    try:
        lang = Language(language)
    except ValueError:
        raise SlipDataError(f"unknown language {language!r}") from None
    try:
        issued_at = datetime.fromisoformat(_required_str(ticket, "issued_at"))
    except ValueError:
        raise SlipDataError("issued_at is not an ISO 8601 time") from None
    if issued_at.tzinfo is None:
        raise SlipDataError("issued_at has no UTC offset")
    if "ja" not in category_names:
        raise SlipDataError("category has no Japanese name")
    minutes = _optional_int(ticket, "estimated_wait_minutes")
    wait = None
    if minutes is not None:
        wait = WaitEstimate(
            minutes,
            _optional_int(ticket, "estimate_low_minutes"),
            _optional_int(ticket, "estimate_high_minutes"),
        )
    area_names: dict[str, str] = {}
    if isinstance(waiting_area, Mapping):
        area_names = {str(k): str(v) for k, v in waiting_area.items() if v}
        waiting_area = area_names.get("ja")
    return Slip(
        office_name=office_name,
        number=_required_str(ticket, "number"),
        procedure_ja=category_names["ja"],
        procedure_local=category_names.get(lang.value) if lang is not Language.JA else None,
        issued_at=issued_at,
        status_url=_required_str(ticket, "status_url"),
        language=lang,
        people_ahead=_optional_int(ticket, "ahead"),
        wait=wait,
        waiting_area=waiting_area,
        waiting_area_names=area_names,
    )


# The demo office's names of its lobby, as an office file gives them.
SAMPLE_WAITING_AREA: Mapping[str, str] = {
    "ja": "1階 市民課前ロビー",
    "en": "1F, lobby in front of the Citizens Division",
    "zh-Hans": "1楼 市民课前大厅",
    "ko": "1층 시민과 앞 로비",
    "vi": "Tầng 1, sảnh trước Ban Công dân",
    "pt": "1º andar, saguão em frente à Divisão de Cidadãos",
    "ja-easy": "1かい しみんかの まえの ロビー",
}


def sample_slip(language: Language | str = Language.EN) -> Slip:
    """A complete made-up slip for test pages and previews (every field filled)."""
    lang = Language(language)
    names = {
        Language.JA: None,
        Language.EN: "Certificate of residence",
        Language.ZH_HANS: "住民票副本",
        Language.KO: "주민표 사본",
        Language.VI: "Bản sao phiếu cư trú",
        Language.PT: "Cópia do registro de residência",
        Language.JA_EASY: "じゅうみんひょうの うつし",
    }
    return Slip(
        office_name="サンプル市役所 市民課",
        number="A-012",
        procedure_ja="住民票の写しの交付",
        procedure_local=names[lang],
        issued_at=datetime(2026, 11, 27, 0, 31, tzinfo=UTC),
        status_url="https://madoguchi.example.jp/t/Xq3v9KpZ2mWc",
        language=lang,
        people_ahead=3,
        wait=WaitEstimate(15, 10, 25),
        waiting_area="1階 市民課前ロビー",
        waiting_area_names=SAMPLE_WAITING_AREA,
    )


__all__ = [
    "TOKYO",
    "Line",
    "Slip",
    "SlipContent",
    "WaitEstimate",
    "format_issued",
    "format_wait",
    "sample_slip",
    "slip_from_ticket",
]
