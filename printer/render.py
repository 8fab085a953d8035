"""How a slip looks: a Pillow raster (default) or printer kanji text, as ESC/POS bytes.

Raster mode works on every ESC/POS printer because python-escpos cannot send kanji as text; kanji
mode uses the printer's own Shift_JIS font (Japanese models only) and is ~200x smaller, which
matters on slow serial links.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printer.errors import PrinterConfigError
from printer.fonts import FontFace, find_japanese_font, load_font
from printer.slip import Line, Slip
from printer.texts import Language

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


# ---------------------------------------------------------------------------------------------
# Line breaking shared by both modes
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# Raster mode
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlipFonts:
    """The faces a raster slip uses; found on the host unless given."""

    regular: FontFace
    bold: FontFace

    @classmethod
    def find(cls, extra: Sequence[str] = ()) -> SlipFonts:
        """Find regular and bold Japanese faces; raises E-PRN-07 when there is none."""
        return cls(find_japanese_font(False, extra), find_japanese_font(True, extra))


@dataclass(slots=True)
class _Canvas:
    """Blocks stacked top to bottom; drawn once the total height is known."""

    width: int
    margin: int
    ops: list[tuple[int, Callable[[Image.Image, ImageDraw.ImageDraw, int], None]]] = field(
        default_factory=list
    )
    height: int = 0

    def add(
        self, height: int, draw: Callable[[Image.Image, ImageDraw.ImageDraw, int], None]
    ) -> None:
        self.ops.append((self.height, draw))
        self.height += height

    def gap(self, height: int) -> None:
        self.height += height

    def text(
        self,
        text: str,
        font: ImageFont.FreeTypeFont,
        *,
        center: bool = True,
        spacing: float = 1.3,
        tight: bool = False,
    ) -> None:
        usable = self.width - 2 * self.margin
        line_height = int(font.size * spacing)
        for line in wrap(text, lambda s: font.getlength(s) <= usable):
            x = (self.width - font.getlength(line)) / 2 if center else self.margin
            top = 0
            height = line_height
            if tight:
                # Huge digits: the font's ascender space would leave a blank band above them.
                _, top_f, _, bottom_f = font.getbbox(line)
                top, height = int(top_f), int(bottom_f - top_f)

            def draw(
                _img: Image.Image,
                d: ImageDraw.ImageDraw,
                y: int,
                x: float = x,
                line: str = line,
                top: int = top,
            ) -> None:
                d.text((x, y - top), line, font=font, fill=0)

            self.add(height, draw)

    def rule(self, thickness: int, pad: int) -> None:
        def draw(_img: Image.Image, d: ImageDraw.ImageDraw, y: int) -> None:
            d.rectangle(
                (self.margin, y + pad, self.width - self.margin, y + pad + thickness - 1), fill=0
            )

        self.add(2 * pad + thickness, draw)

    def image(self, picture: Image.Image) -> None:
        x = (self.width - picture.width) // 2

        def draw(img: Image.Image, _d: ImageDraw.ImageDraw, y: int) -> None:
            img.paste(picture, (x, y))

        self.add(picture.height, draw)

    def render(self) -> Image.Image:
        img = Image.new("L", (self.width, self.height), 255)
        d = ImageDraw.Draw(img)
        for y, draw in self.ops:
            draw(img, d, y)
        # Thermal heads print black or nothing; a slightly dark threshold keeps thin strokes of
        # small kana from breaking up.
        return img.point(lambda v: 255 if v > 160 else 0).convert("1")


def qr_image(payload: str, width_dots: int, module_dots: int | None = None) -> Image.Image:
    """Draw a QR code (error correction M, 4-module quiet zone) sized for the paper width."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    code.add_data(payload)
    code.make(fit=True)
    matrix: list[list[bool]] = code.get_matrix()
    n = len(matrix)
    # about 40 % of the paper width, and whole dots per module so every module is the same size
    box = module_dots or max(3, min(8, int(width_dots * 0.42) // n))
    small = Image.new("L", (n, n), 255)
    small.putdata([0 if dark else 255 for row in matrix for dark in row])
    return small.resize((n * box, n * box), Image.Resampling.NEAREST)


def render_image(
    slip: Slip, profile: PrinterProfile, fonts: SlipFonts | None = None
) -> Image.Image:
    """Draw the slip as a 1-bit image exactly `profile.width_dots` wide (also the PNG preview)."""
    fonts = fonts or SlipFonts.find()
    c = slip.content()
    w = profile.width_dots
    # Text shrinks less than the paper: on 58 mm paper a linear scale makes 13-dot text that
    # elderly visitors cannot read; wrapping more lines is the better trade.
    s = (w / 576) ** 0.5
    canvas = _Canvas(w, margin=int(16 * s))

    def regular(px: float) -> ImageFont.FreeTypeFont:
        return load_font(fonts.regular, max(12, int(px * s)))

    def bold(px: float) -> ImageFont.FreeTypeFont:
        return load_font(fonts.bold, max(12, int(px * s)))

    def pair(line: Line, ja_px: float, local_px: float, *, center: bool = True) -> None:
        canvas.text(line.ja, regular(ja_px), center=center)
        if line.local:
            canvas.text(line.local, regular(local_px), center=center)

    canvas.gap(int(8 * s))
    canvas.text(c.office, bold(30))
    canvas.rule(max(2, int(3 * s)), int(8 * s))
    pair(c.number_label, 30, 24)
    canvas.gap(int(12 * s))
    number_font = _number_font(c.number, fonts.bold, w - 2 * canvas.margin)
    canvas.text(c.number, number_font, tight=True)
    canvas.gap(int(20 * s))
    canvas.text(c.procedure.ja, bold(34))
    if c.procedure.local:
        canvas.text(c.procedure.local, regular(26))
    canvas.rule(max(1, int(2 * s)), int(10 * s))
    for detail in c.details:
        pair(detail, 26, 22, center=False)
    canvas.text(c.issued, regular(22), center=False)
    canvas.gap(int(10 * s))
    canvas.image(qr_image(c.status_url, w))
    pair(c.scan, 22, 20)
    canvas.gap(int(6 * s))
    pair(c.notice, 26, 22)
    canvas.gap(int(16 * s))
    return canvas.render()


def _number_font(number: str, face: FontFace, usable: int) -> ImageFont.FreeTypeFont:
    """Largest bold size (up to ~21 mm tall at 576 dots) at which the number fits the width."""
    size = int(170 * usable / 544)
    while size > 24:
        font = load_font(face, size)
        if font.getlength(number) <= usable:
            return font
        size -= 6
    return load_font(face, 24)


def render_raster_bytes(
    slip: Slip, profile: PrinterProfile, fonts: SlipFonts | None = None
) -> bytes:
    """ESC/POS job: init, the slip as `GS v 0` raster blocks (python-escpos), feed and cut."""
    return raster_job(render_image(slip, profile, fonts), profile)


def raster_job(image: Image.Image, profile: PrinterProfile) -> bytes:
    """Wrap an already drawn slip image into an ESC/POS job."""
    from escpos.printer import Dummy

    printer = Dummy()
    # Per-instance copy: python-escpos checks image width against the profile and otherwise
    # prints a warning to stdout for every image.
    data = copy.deepcopy(printer.profile.profile_data)
    data["media"]["width"]["pixels"] = profile.width_dots
    printer.profile.profile_data = data
    printer.hw("INIT")
    printer.image(image, impl="bitImageRaster")
    printer.cut()
    out: bytes = printer.output
    return out


# ---------------------------------------------------------------------------------------------
# Kanji mode
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def render_bytes(slip: Slip, profile: PrinterProfile, fonts: SlipFonts | None = None) -> bytes:
    """Render a slip to the ESC/POS job the profile's printer understands."""
    if profile.mode is Mode.KANJI:
        return render_kanji_bytes(slip, profile)
    return render_raster_bytes(slip, profile, fonts)


def render_png(slip: Slip, profile: PrinterProfile, fonts: SlipFonts | None = None) -> Image.Image:
    """Preview image of the slip (the raster layout, also used for kanji-mode printers)."""
    return render_image(slip, profile, fonts)
