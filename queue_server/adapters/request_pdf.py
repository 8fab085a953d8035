"""The completed request form as an A4 PDF in Japanese (reportlab, font embedded from Debian)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from queue_server.domain.errors import DomainError
from queue_server.domain.office import Office

# IPAex Gothic is a TrueType font reportlab can embed (Noto CJK ships CFF outlines it cannot).
FONT_CANDIDATES = (
    Path("/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf"),
    Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"),
)
_FONT = "MadoguchiGothic"


class NoJapaneseFont(DomainError):
    code = "pdf_font_missing"
    status = 500
    message_ja = "帳票用の日本語フォントがありません。"


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT in pdfmetrics.getRegisteredFontNames():
        return
    for path in FONT_CANDIDATES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(_FONT, str(path)))
            return
    raise NoJapaneseFont("install the Debian package fonts-ipaexfont-gothic")


def _value(field: Mapping[str, Any], value: Any) -> str:
    if value is None or value == "":
        return ""
    if field["kind"] == "bool":
        return "する" if value else "しない"
    if field["kind"] == "choice":
        for choice in field["choices"]:
            if choice["value"] == value:
                return str(choice["labels"]["ja"])
    if field["kind"] == "lines":
        return "、".join(str(v) for v in value)
    return str(value)


class ReportlabRequestRenderer:
    def render(self, office: Office, request: Mapping[str, Any], number: str) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.units import mm
        from reportlab.pdfgen import canvas

        _register_font()
        out = io.BytesIO()
        page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
        page.setTitle(str(request["form"]["labels"]["ja"]))
        width, height = A4
        y = height - 25 * mm
        page.setFont(_FONT, 16)
        page.drawCentredString(width / 2, y, str(request["form"]["labels"]["ja"]))
        page.setFont(_FONT, 10)
        y -= 10 * mm
        page.drawString(20 * mm, y, f"{office.names['ja']} 御中")
        page.drawRightString(width - 20 * mm, y, f"受付番号 {number}")
        y -= 10 * mm
        for field in request["form"]["fields"]:
            text = _value(field, request["fields"].get(field["name"]))
            page.setFont(_FONT, 9)
            page.drawString(22 * mm, y, str(field["labels"]["ja"]))
            page.setFont(_FONT, 11)
            page.drawString(80 * mm, y, text)
            page.line(20 * mm, y - 2.5 * mm, width - 20 * mm, y - 2.5 * mm)
            y -= 9 * mm
        y -= 4 * mm
        page.setFont(_FONT, 11)
        copies = request["fields"].get("copies", 1)
        per_copy, total = request["fee_per_copy"], request["fee_total"]
        fee = f"手数料 1通 {per_copy:,}円 × {copies}通  合計 {total:,}円"
        page.drawString(22 * mm, y, fee)
        y -= 16 * mm
        page.drawString(22 * mm, y, "上記の内容に相違ありません。")
        page.drawString(110 * mm, y, "署名")
        page.line(122 * mm, y - 1 * mm, width - 20 * mm, y - 1 * mm)
        page.setFont(_FONT, 8)
        page.drawString(
            20 * mm, 15 * mm, "この帳票は窓口で記入内容を確認し、署名のうえ職員にお渡しください。"
        )
        page.showPage()
        page.save()
        return out.getvalue()
