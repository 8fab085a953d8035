"""The kiosk's sentences, read from the shared visitor catalogue (`visitor_text`, `[kiosk]`).

The kiosk keeps no wording of its own: every screen and voice sentence lives in
`visitor_text/locales/<lang>.toml` with the board's, the slip's and the pages', so a translator
edits one file. This module adds the kiosk's rules on top: which sentence a notice gets, how a
wait is written (minutes through `visitor_text.minutes`, so ふん/ぷん is right for every
number), and how a number is read aloud.
"""

from __future__ import annotations

import visitor_text
from visitor_text import minute_counter, minutes

# The visitor languages in the kiosk's order, each in its own name.
LANGUAGE_NAMES: dict[str, str] = dict(visitor_text.LANGUAGES)

# Voices for espeak-ng by kiosk language; Japanese goes to Open JTalk when it is installed.
ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us",
    "zh-Hans": "cmn",
    "ko": "ko",
    "vi": "vi",
    "pt": "pt-br",
}

_NOTICE_KEYS: dict[str, str] = {
    "office_closed": "notice_office_closed",
    "category_closed": "notice_category_closed",
    "daily_cap_reached": "notice_daily_cap",
    "number_range_exhausted": "notice_number_range",
    "server_unreachable": "notice_unreachable",
    "refused": "notice_refused",
}
# A closed_reason names the cause more precisely than the notice kind.
_REASON_KEYS: dict[str, str] = {
    "closed_day": "notice_closed_day",
    "outside_hours": "notice_outside_hours",
    "reception_ended": "notice_category_closed",
    "daily_cap_reached": "notice_daily_cap",
    "number_range_exhausted": "notice_number_range",
}


def _language(language: str) -> str:
    return language if language in visitor_text.LANGUAGES else visitor_text.SOURCE_LANGUAGE


def text(language: str, key: str, **values: object) -> str:
    """The kiosk sentence `key` in `language` with `values` filled in."""
    return visitor_text.text(_language(language), f"kiosk.{key}", **values)


def notice_text(language: str, notice: str, reason: str | None) -> str:
    """The headline of a notice screen, as precise as the server's reason allows."""
    key = _REASON_KEYS.get(reason or "") or _NOTICE_KEYS.get(notice, "notice_refused")
    return text(language, key)


def wait_text(
    language: str, minutes_: int | None, low: int | None = None, high: int | None = None
) -> str:
    """`about 15 min (10-25)`; never "0 minutes" when the server has no estimate."""
    lang = _language(language)
    if minutes_ is None:
        return text(lang, "wait_unknown")
    about = minutes(lang, minutes_)
    if low is not None and high is not None and high > low:
        return text(
            lang, "wait_range", about=about, lo=low, hi=high, counter=minute_counter(lang, high)
        )
    return about


def speakable_number(language: str, number: str) -> str:
    """`A-012` as it should be read: letters as katakana in Japanese, no leading zeros, and
    no hyphen (speech engines say "dash")."""
    letters, _, digits = number.partition("-")
    value = str(int(digits)) if digits.isdigit() else digits
    if language in ("ja", "ja-easy"):
        kana = {"A": "エー", "B": "ビー", "C": "シー", "D": "ディー", "E": "イー", "F": "エフ"}
        return f"{kana.get(letters, letters)}{value}ばん"
    return f"{letters} {value}"
