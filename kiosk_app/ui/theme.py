"""Sizes and colours: touch targets of at least 15 mm, large type, a high-contrast theme."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk_app.flow import Preferences

MIN_TARGET_MM = 15.0
FALLBACK_DPI = 96.0


@dataclass(frozen=True)
class Theme:
    target_px: int  # the smallest side of any touch target
    font_pt: int
    title_pt: int
    number_pt: int
    stylesheet: str


def mm_to_px(mm: float, dpi: float) -> int:
    return round(mm / 25.4 * dpi)


def theme_for(preferences: Preferences, dpi: float | None) -> Theme:
    """The theme for the visitor's choices on a screen of `dpi` physical dots per inch."""
    dpi = dpi if dpi and dpi > 30 else FALLBACK_DPI
    scale = 1.35 if preferences.large_text else 1.0
    target = max(mm_to_px(MIN_TARGET_MM * (1.2 if preferences.large_text else 1.0), dpi), 44)
    font = round(20 * scale)
    title = round(30 * scale)
    if preferences.high_contrast:
        colours = {
            "bg": "#000000",
            "fg": "#ffffff",
            "button": "#000000",
            "button_fg": "#ffff00",
            "border": "#ffff00",
            "accent": "#ffff00",
            "accent_fg": "#000000",
            "muted": "#ffffff",
            "closed": "#000000",
            "closed_fg": "#ffffff",
            "alert": "#ffff00",
        }
    else:
        colours = {
            "bg": "#f4f6f8",
            "fg": "#111111",
            "button": "#ffffff",
            "button_fg": "#0b3d91",
            "border": "#0b3d91",
            "accent": "#0b3d91",
            "accent_fg": "#ffffff",
            "muted": "#333333",
            "closed": "#d9d9d9",
            "closed_fg": "#333333",
            "alert": "#b00020",
        }
    border = 4 if preferences.high_contrast else 2
    sheet = f"""
    QWidget#kiosk {{ background: {colours["bg"]}; }}
    QScrollArea#body, QWidget#body-content, QScrollArea#body > QWidget {{
        background: {colours["bg"]}; border: none; }}
    QScrollBar:vertical {{ background: {colours["bg"]}; width: {target // 2}px;
        border: {border}px solid {colours["border"]}; border-radius: 6px; }}
    QScrollBar::handle:vertical {{ background: {colours["border"]}; min-height: {target}px;
        border-radius: 4px; }}
    QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0px; }}
    QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: none; }}
    QLabel {{ color: {colours["fg"]}; font-size: {font}pt; }}
    QLabel[role="title"] {{ font-size: {title}pt; font-weight: bold; }}
    QLabel[role="muted"] {{ color: {colours["muted"]}; }}
    QLabel[role="alert"] {{ color: {colours["alert"]}; font-weight: bold; }}
    QLabel[role="number"] {{ font-size: {round(96 * scale)}pt; font-weight: bold; }}
    QLabel[role="pin"] {{ font-size: {round(title * 1.6)}pt; font-weight: bold; }}
    QLabel[role="banner"] {{ background: {colours["accent"]}; color: {colours["accent_fg"]};
        padding: 12px; font-weight: bold; }}
    QPushButton {{ background: {colours["button"]}; color: {colours["button_fg"]};
        border: {border}px solid {colours["border"]}; border-radius: 12px;
        font-size: {font}pt; padding: 10px; min-height: {target}px; min-width: {target}px; }}
    QPushButton[role="primary"] {{ background: {colours["accent"]}; color: {colours["accent_fg"]};
        font-weight: bold; }}
    QPushButton[role="closed"] {{ background: {colours["closed"]}; color: {colours["closed_fg"]};
        border-style: dashed; }}
    QPushButton[role="toggle"] {{ font-size: {round(font * 0.8)}pt; }}
    QPushButton[role="toggle"]:checked {{ background: {colours["accent"]};
        color: {colours["accent_fg"]}; }}
    QPushButton[legend="true"] {{ font-size: {round(font * 0.7)}pt; padding: 6px; }}
    QPushButton:disabled {{ background: {colours["closed"]}; color: {colours["closed_fg"]};
        border-style: dashed; font-weight: normal; }}
    """
    return Theme(target, font, title, round(96 * scale), sheet)
