"""Kanji mode: the slip as text in the printer's own Shift_JIS font, with a printer-drawn QR
code (Japanese models only; ~200x smaller than a raster job, which matters on serial links)."""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from printer.layout import (
    ALIGN_CENTER,
    ALIGN_LEFT,
    BOLD_OFF,
    BOLD_ON,
    FEED_AND_CUT,
    FONT_A_DOTS,
    GS,
    INIT,
    KANJI_SHIFT_JIS,
    PrinterProfile,
    wrap,
)
from printer.slip import Line, Slip
from printer.texts import Language


def cp932_printable(text: str) -> str | None:
    """Text as a kanji-mode printer can print it, or None when cp932 cannot encode it.

    Accented Latin (vi, pt) is printed without accents, which stays readable; Hangul and
    simplified Chinese cannot be printed at all.
    """
    for candidate in (text, _strip_accents(text)):
        try:
            candidate.encode("cp932")
        except UnicodeEncodeError:
            continue
        return candidate
    return None


def _strip_accents(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _columns(text: str) -> int:
    return len(text.encode("cp932"))


class _KanjiJob:
    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.out = bytearray(INIT + KANJI_SHIFT_JIS)

    def raw(self, data: bytes) -> None:
        self.out += data

    def text(self, text: str, *, scale: int = 1) -> None:
        cols = self.columns // scale
        for line in wrap(text, lambda s: _columns(s) <= cols):
            self.out += line.encode("cp932") + b"\n"


def render_kanji_bytes(slip: Slip, profile: PrinterProfile) -> bytes:
    """ESC/POS job in the printer's Shift_JIS kanji font, with a printer-drawn QR code."""
    c = slip.content()
    # Lines the visitor's language cannot print in cp932 fall back to English.
    english = replace(slip, language=Language.EN, procedure_local=None).content()
    job = _KanjiJob(profile.width_dots // FONT_A_DOTS)

    def pair(line: Line, fallback: Line) -> None:
        job.text(_must_cp932(line.ja))
        if line.local:
            job.text(cp932_printable(line.local) or _must_cp932(fallback.local or ""))

    job.raw(ALIGN_CENTER + BOLD_ON)
    job.text(_must_cp932(c.office))
    job.raw(BOLD_OFF)
    pair(c.number_label, english.number_label)
    scale = max(1, min(8, profile.width_dots // (FONT_A_DOTS * _columns(c.number))))
    job.raw(_char_size(scale, scale))
    job.text(c.number, scale=scale)
    job.raw(_char_size(1, 2) + BOLD_ON)
    job.text(_must_cp932(c.procedure.ja))
    job.raw(_char_size(1, 1) + BOLD_OFF)
    if c.procedure.local:
        local = cp932_printable(c.procedure.local)
        if local:
            job.text(local)
    job.raw(b"\n" + ALIGN_LEFT)
    for detail, fallback in zip(c.details, english.details, strict=True):
        pair(detail, fallback)
    job.text(_must_cp932(c.issued))
    job.raw(b"\n" + ALIGN_CENTER)
    job.raw(native_qr(c.status_url, module_dots=5 if profile.width_dots < 512 else 6))
    job.raw(b"\n")
    pair(c.scan, english.scan)
    job.raw(b"\n")
    pair(c.notice, english.notice)
    job.raw(FEED_AND_CUT)
    return bytes(job.out)


def _must_cp932(text: str) -> str:
    # Japanese lines and office strings come from our own tables or the city's settings; a
    # character outside cp932 (e.g. 髙 variants) is replaced rather than failing the slip.
    return text.encode("cp932", errors="replace").decode("cp932")


def _char_size(width: int, height: int) -> bytes:
    return GS + b"!" + bytes([((width - 1) << 4) | (height - 1)])


def native_qr(payload: str, module_dots: int = 6) -> bytes:
    """`GS ( k` commands: model 2, module size, error correction M, store the payload, print."""
    data = payload.encode("utf-8")

    def cmd(fn: int, body: bytes) -> bytes:
        n = len(body) + 2
        return GS + b"(k" + bytes([n & 0xFF, n >> 8, 0x31, fn]) + body

    return (
        cmd(0x41, b"\x32\x00")  # model 2
        + cmd(0x43, bytes([module_dots]))
        + cmd(0x45, b"\x31")  # error correction M
        + cmd(0x50, b"\x30" + data)
        + cmd(0x51, b"\x30")
    )
