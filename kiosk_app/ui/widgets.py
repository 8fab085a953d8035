"""Small Qt pieces every screen uses: labels, buttons, the QR code and the camera preview."""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy


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


def make_button(value: str, name: str, action: Callable[[], None], role: str = "") -> QPushButton:
    """A touch button named `name` that runs `action` when tapped."""
    button = QPushButton(value)
    button.setObjectName(name)
    if role:
        button.setProperty("role", role)
    button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    button.clicked.connect(lambda: action())  # drop the `checked` argument
    button.setAccessibleName(value.replace("\n", " "))
    return button
