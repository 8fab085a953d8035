"""Small Qt pieces every screen uses: labels, buttons, the QR code and the camera preview."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QStyle, QStyleOptionButton

# Japanese and Chinese break between characters, Latin scripts and Korean between words; these
# never start a line (closing marks, small kana, the long-vowel mark: 禁則処理).
_NO_LINE_START = frozenset(
    "、。，．,.）」』】〕！？!?・：:/ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ"
)


def qr_pixmap(payload: str, size: int) -> QPixmap:
    """The ticket's QR code drawn for the screen."""
    import qrcode

    image = qrcode.make(payload, border=2).get_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio)


def frame_pixmap(frame: np.ndarray, width: int) -> QPixmap:
    """A camera frame with the guide frame the visitor aims the code into."""
    import cv2

    rgb = np.ascontiguousarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    pixmap = QPixmap.fromImage(image).scaledToWidth(width)
    painter = QPainter(pixmap)
    painter.setPen(QPen(QColor("#00c853"), 6))
    side = int(min(pixmap.width(), pixmap.height()) * 0.7)
    painter.drawRect(QRect((pixmap.width() - side) // 2, (pixmap.height() - side) // 2, side, side))
    painter.end()
    return pixmap


class InputWatcher(QObject):
    """Every touch keeps the visit alive; keystrokes go to a keyboard-wedge scanner."""

    def __init__(self, on_touch: Callable[[], None], on_text: Callable[[str], None]) -> None:
        super().__init__()
        self._on_touch = on_touch
        self._on_text = on_text

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin):
            self._on_touch()
        elif event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            self._on_text("\n" if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) else event.text())
        return False


def make_label(value: str, role: str = "", name: str = "") -> QLabel:
    """A word-wrapped label with a style role and an object name (tests and voice use it)."""
    label = QLabel(value)
    label.setWordWrap(True)
    if role:
        label.setProperty("role", role)
    if name:
        label.setObjectName(name)
    return label


def wrap_text(text: str, metrics: QFontMetrics, width: int) -> str:
    """`text` with line breaks so no line is wider than `width` where a break is possible.

    Latin and Korean words stay whole; Japanese and Chinese break between characters.
    Existing line breaks are kept.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            candidate = line + token
            if line and metrics.horizontalAdvance(candidate.rstrip()) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = candidate
        lines.append(line.rstrip())
    return "\n".join(lines)


def _is_word_char(char: str, spaced: bool = False) -> bool:
    # Latin, Vietnamese and Portuguese letters, digits and the marks inside a word; Korean
    # writes spaces between words and breaks there too (Hangul syllables), and so does
    # やさしい日本語, whose kana words are written with spaces between them (分かち書き).
    return (
        (char.isascii() and not char.isspace())
        or "\u00c0" <= char <= "\u024f"
        or "\u1e00" <= char <= "\u1eff"
        or "\uac00" <= char <= "\ud7a3"
        or (spaced and "\u3041" <= char <= "\u30ff")
    )


def _tokens(paragraph: str) -> list[str]:
    """Pieces a line may break after: a word with its spaces, or one CJK character."""
    spaced = " " in paragraph
    tokens: list[str] = []
    for char in paragraph:
        in_word = (
            _is_word_char(char, spaced) and bool(tokens) and _is_word_char(tokens[-1][-1], spaced)
        )
        # A number keeps its unit on its line ("18 min", "6 phút", "3 người").
        after_number = bool(tokens) and tokens[-1][:-1].isdigit() and tokens[-1][-1] == " "
        if tokens and (char in _NO_LINE_START or char.isspace() or in_word or after_number):
            tokens[-1] += char
        else:
            tokens.append(char)
    return tokens


class WrapButton(QPushButton):
    """A push button whose text wraps to its width, and which asks its layout for the height
    the wrapped text needs: large text makes buttons taller, never cuts their last line."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._plain = text
        self._wrapped_for = -1
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def plain_text(self) -> str:
        """The text as given, without the line breaks wrapping added."""
        return self._plain

    def _outer(self, inner: QSize) -> QSize:
        # The style sheet's padding, border and min-height come from the widget's rule. A bare
        # option on purpose: PySide6 6.x's initStyleOption/initFrom drop a reference to None
        # on every call, which crashes the interpreter after a few thousand layouts.
        option = QStyleOptionButton()
        return self.style().sizeFromContents(QStyle.ContentsType.CT_PushButton, option, inner, self)

    def _chrome(self) -> QSize:
        # Padding and border only: measured around content larger than any min-width, which
        # the style would otherwise add in.
        big = 10_000
        return self._outer(QSize(big, big)) - QSize(big, big)

    def _wrapped(self, width: int) -> str:
        room = max(1, width - self._chrome().width())
        return wrap_text(self._plain, self.fontMetrics(), room)

    def _height_of(self, text: str) -> int:
        inner = self.fontMetrics().size(Qt.TextFlag.TextShowMnemonic, text)
        return max(self._outer(inner).height(), self.minimumHeight())

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt API)
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt API)
        return self._height_of(self._wrapped(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        # As narrow as the longest unbreakable piece: the layout may narrow the button down
        # to it, and the text wraps.
        widest = max(
            (self.fontMetrics().horizontalAdvance(t.strip()) for t in _tokens(self._plain)),
            default=0,
        )
        chrome = self._chrome()
        return QSize(
            max(widest + chrome.width(), self.minimumWidth()), super().minimumSizeHint().height()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        width = event.size().width()
        if width != self._wrapped_for:
            self._wrapped_for = width
            wrapped = self._wrapped(width)
            if wrapped != self.text():
                self.setText(wrapped)
                self.updateGeometry()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._wrapped_for = -1  # a new font (large text) wraps differently


def make_button(value: str, name: str, action: Callable[[], None], role: str = "") -> QPushButton:
    """A touch button named `name` that runs `action` when tapped; its text wraps."""
    button = WrapButton(value)
    button.setObjectName(name)
    if role:
        button.setProperty("role", role)
    button.clicked.connect(lambda: action())  # drop the `checked` argument
    button.setAccessibleName(value.replace("\n", " "))
    return button
