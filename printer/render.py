"""How a slip looks: a Pillow raster (default) or printer kanji text, as ESC/POS bytes.

Raster mode works on every ESC/POS printer because python-escpos cannot send kanji as text; kanji
mode uses the printer's own Shift_JIS font (Japanese models only) and is ~200x smaller, which
matters on slow serial links.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import qrcode
from PIL import Image, ImageDraw, ImageFont

from printer.fonts import FontFace, find_japanese_font, load_font
from printer.kanji import render_kanji_bytes
from printer.layout import Mode, PrinterProfile, wrap
from printer.slip import Line, Slip

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
