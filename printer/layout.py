"""What both renderers share: paper widths and modes (the printer profiles), the ESC/POS
commands they use, and Japanese-aware line breaking (禁則)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from printer.errors import PrinterConfigError

WIDTHS: tuple[int, ...] = (384, 512, 576)

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
INIT = ESC + b"@"
KANJI_SHIFT_JIS = FS + b"C\x01"
ALIGN_LEFT = ESC + b"a\x00"
ALIGN_CENTER = ESC + b"a\x01"
BOLD_ON = ESC + b"E\x01"
BOLD_OFF = ESC + b"E\x00"
FEED_AND_CUT = ESC + b"d\x06" + GS + b"V\x00"
# Font A is 12 x 24 dots on Epson TM models; a kanji is two columns wide.
FONT_A_DOTS = 12


class Mode(StrEnum):
    """How the slip text reaches the paper."""

    RASTER = "raster"
    KANJI = "kanji"


@dataclass(frozen=True, slots=True)
class PrinterProfile:
    """What the renderer must know about one printer model."""

    name: str = "generic-80mm"
    width_dots: int = 576
    mode: Mode = Mode.RASTER

    def __post_init__(self) -> None:
        if self.width_dots not in WIDTHS:
            raise PrinterConfigError(f"width must be one of {WIDTHS}, not {self.width_dots}")
        if not isinstance(self.mode, Mode):
            raise PrinterConfigError(f"mode must be raster or kanji, not {self.mode!r}")


PROFILES: dict[str, PrinterProfile] = {
    p.name: p
    for p in (
        PrinterProfile("generic-58mm", 384, Mode.RASTER),
        PrinterProfile("generic-80mm", 576, Mode.RASTER),
        PrinterProfile("tm-t88", 512, Mode.RASTER),
        PrinterProfile("tm-t88-j", 512, Mode.KANJI),
        PrinterProfile("tm-t20-j", 576, Mode.KANJI),
    )
}


def make_profile(
    width: int | None = None, mode: Mode | str | None = None, name: str | None = None
) -> PrinterProfile:
    """Return a named profile, optionally overriding width or mode; raises E-PRN-08 if invalid."""
    base = PROFILES.get(name or "generic-80mm")
    if base is None:
        raise PrinterConfigError(f"unknown printer profile {name!r}; known: {sorted(PROFILES)}")
    try:
        new_mode = Mode(mode) if mode is not None else base.mode
    except ValueError:
        raise PrinterConfigError(f"mode must be raster or kanji, not {mode!r}") from None
    return replace(base, width_dots=width or base.width_dots, mode=new_mode)


# Japanese line-breaking rule (禁則): closing marks never start a line, opening marks never end one.
_CLOSING = "、。，．,.）」』】〕〉》・ー？！?!ぁぃぅぇぉっゃゅょァィゥェォッャュョ"
_OPENING = "（「『【〔〈《"
_WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(
    rf"[{_OPENING}]*\d+(?:[〜～]\d+)?[{_WIDE}][{_CLOSING}]*"  # with its unit: 3人, （10〜25分）
    rf"|[{_OPENING}]*[{_WIDE}][{_CLOSING}]*"  # one CJK character with its punctuation
    rf"|[^\s{_WIDE}]+\s*"  # a Latin or Hangul word with the spaces after it
    r"|\s+"
)


def wrap(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Break text into lines for which `fits` holds: CJK by character, other scripts by word."""
    if fits(text.strip()):
        return [text.strip()]
    lines: list[str] = []
    current = ""
    for token in _TOKEN.findall(text):
        candidate = current + token
        if fits(candidate.rstrip()):
            current = candidate
            continue
        head, space, tail = current.rpartition(" ")
        if not current[-1:].isspace() and space and head.strip() and len(head) >= len(tail):
            # やさしい日本語 and Korean put spaces between phrases: break there rather than
            # mid-phrase, unless that would leave a short stub of a line.
            lines.append(head.rstrip())
            current = tail + token
        else:
            if current.strip():
                lines.append(current.rstrip())
            current = token.lstrip()
        # a single word wider than the paper (a long URL) is cut by character
        while current and not fits(current.rstrip()):
            cut = len(current) - 1
            while cut > 1 and not fits(current[:cut]):
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    if current.strip():
        lines.append(current.rstrip())
    return lines or [""]
