"""Fixed slip wording in every visitor language, read from the shared visitor catalogue.

The sentences live in `visitor_text/locales/<lang>.toml`, table `[slip]`, next to the kiosk's and
the pages', so a translator edits one file. Minutes are written by `visitor_text.minutes`, the
one function that knows the language's counter (ふん/ぷん in やさしい日本語).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import visitor_text


class Language(StrEnum):
    """Languages a visitor can pick at the kiosk (BCP 47 tags; ja-easy is やさしい日本語)."""

    JA = "ja"
    EN = "en"
    ZH_HANS = "zh-Hans"
    KO = "ko"
    VI = "vi"
    PT = "pt"
    JA_EASY = "ja-easy"


@dataclass(frozen=True, slots=True)
class SlipTexts:
    """The fixed strings of one language; `{n}`, `{lo}`, `{hi}`, `{counter}` are filled in by
    slip.py."""

    language: Language
    number_label: str
    ahead: str
    wait_label: str
    wait_interval: str
    wait_unknown: str
    place_label: str
    scan: str
    notice: str
    label_sep: str

    def wait_point(self, minutes: int) -> str:
        """`約15分`, `だいたい 15ふん`, `about 15 min`: the catalogue's one minute rule."""
        return visitor_text.minutes(self.language.value, minutes)

    def interval(self, low: int, high: int) -> str:
        """`（10〜25分）`: the counter word follows the last number, as it is read."""
        counter = visitor_text.minute_counter(self.language.value, high)
        return self.wait_interval.format(lo=low, hi=high, counter=counter)


_FIELDS = (
    "number_label",
    "ahead",
    "wait_label",
    "wait_interval",
    "wait_unknown",
    "place_label",
    "scan",
    "notice",
    "label_sep",
)


@cache
def texts_for(language: Language) -> SlipTexts:
    """Return the fixed strings for one language."""
    lang = language.value
    values = {name: visitor_text.text(lang, f"slip.{name}") for name in _FIELDS}
    return SlipTexts(language, **values)
