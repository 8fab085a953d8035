"""What the board says and shows for a call: text for the eye and text for the ear (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Letters read one by one as katakana: Open JTalk reads a bare "A" unreliably.
_LETTERS_JA = {
    "A": "エー", "B": "ビー", "C": "シー", "D": "ディー", "E": "イー", "F": "エフ", "G": "ジー",
    "H": "エイチ", "I": "アイ", "J": "ジェー", "K": "ケー", "L": "エル", "M": "エム", "N": "エヌ",
    "O": "オー", "P": "ピー", "Q": "キュー", "R": "アール", "S": "エス", "T": "ティー", "U": "ユー",
    "V": "ブイ", "W": "ダブリュー", "X": "エックス", "Y": "ワイ", "Z": "ゼット",
}  # fmt: skip
_NUMBER = re.compile(r"^\s*([A-Za-z]*)\s*-?\s*0*(\d+)\s*$")


class BadNumber(ValueError):
    """A display number that is not letters followed by digits."""


@dataclass(frozen=True)
class Call:
    """One call of a number to a counter; `recall` when the clerk calls it again."""

    number: str
    counter: int
    recall: bool = False


@dataclass(frozen=True)
class Announcement:
    """The spoken texts (ja, en) and the line shown on screen."""

    ja: str
    en: str
    display_ja: str
    display_en: str


def split_number(number: str) -> tuple[str, int]:
    """("A", 12) from "A-012": the prefix and the number without leading zeros."""
    match = _NUMBER.match(number)
    if match is None:
        raise BadNumber(f"not a ticket number: {number!r}")
    return match.group(1).upper(), int(match.group(2))


def ear_prefix_ja(prefix: str) -> str:
    return "".join(_LETTERS_JA.get(letter, letter) for letter in prefix)


def announcement(call: Call) -> Announcement:
    """The texts for one call, written for the ear: letters in katakana, no leading zeros, and
    「方」 as かた (Open JTalk would read it ほう)."""
    prefix, value = split_number(call.number)
    if call.counter < 1:
        raise BadNumber(f"not a counter number: {call.counter!r}")
    again_ja = "もう一度お呼びします。" if call.recall else ""
    again_en = "Calling again. " if call.recall else ""
    ja = (
        f"{again_ja}受付番号、{ear_prefix_ja(prefix)}{value}番のかた、"
        f"{call.counter}番窓口へお越しください。"
    )
    # No hyphen in the English text: voices read it as "dash".
    spoken = f"{prefix} {value}".strip()
    en = f"{again_en}Number {spoken}, please come to counter {call.counter}."
    shown = call.number.strip()
    return Announcement(
        ja=ja,
        en=en,
        display_ja=f"受付番号 {shown} 番の方、{call.counter}番窓口へお越しください",
        display_en=f"Number {shown}, please come to counter {call.counter}",
    )
