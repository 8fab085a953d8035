"""The kiosk window: renders `Flow.state`, forwards touches to the controller.

Each state change rebuilds the current screen from the state (the screens are small), so what
is shown is always a function of the state. Buttons carry object names (`lang-en`,
`category-certificates`, `issue`...) that tests and the voice guide use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk_app.flow import Preferences, Screen, State
from kiosk_app.i18n import text
from kiosk_app.speech import speech_for
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.screens import BUILDERS
from kiosk_app.ui.theme import Theme, theme_for
from kiosk_app.ui.widgets import InputWatcher, frame_pixmap, make_button, make_label


class KioskWindow(QWidget):
    """The one window of the kiosk."""

    def __init__(self, controller: KioskController, dpi: float | None = None) -> None:
        super().__init__()
        self.setObjectName("kiosk")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setWindowTitle("Madoguchi 受付")
        self.controller = controller
        self.dpi = dpi
        self._rendered: tuple[State, bool] | None = None
        self._spoken: tuple[Screen, str, str] | None = None
        self._content: QWidget | None = None
        self.preview: QLabel | None = None
        # The PIN lives here, and only here, until the one VERIFY: screens are rebuilt on
        # every status update, so the digits cannot live in the (short-lived) pad widgets.
        self._pin: list[str] = []
        self.pin_display: QLabel | None = None
        self._pin_for: tuple[Screen, int | None, str | None] = (Screen.LANGUAGE, None, None)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(24, 24, 24, 24)
        self.theme: Theme = theme_for(Preferences(), dpi)
        controller.changed.connect(self.show_state)
        controller.scanned_feedback.connect(self._feedback)
        self._keys = InputWatcher(controller.touch, controller.key_typed)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._keys)
        self.preview_timer = QTimer(self)
        self.preview_timer.setInterval(100)
        self.preview_timer.timeout.connect(self.update_preview)
        self.preview_timer.start()
        self.show_state()

    # --- rendering ---------------------------------------------------------------------------

    def show_state(self) -> None:
        state = self.controller.flow.state
        warning = self.controller.flow.warning_due(self.controller.clock())
        if self._rendered == (state, warning):
            return
        self._rendered = (state, warning)
        self.theme = theme_for(state.preferences, self.dpi)
        self.setStyleSheet(self.theme.stylesheet)
        if self._content is not None:
            self._layout.removeWidget(self._content)
            self._content.hide()
            self._content.setParent(None)  # out of the widget tree now; freed on the next turn
            self._content.deleteLater()
        self.preview = None
        self.pin_display = None
        # Digits survive a redraw (status updates) but never a new screen or a VERIFY's answer.
        pin_for = (state.screen, state.card_tries, state.message)
        if state.screen is not Screen.CARD_PIN or pin_for[1:] != self._pin_for[1:]:
            self._pin.clear()
        self._pin_for = pin_for
        content = QWidget()
        box = QVBoxLayout(content)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(8 if state.preferences.low_position else 16)
        margin = 12 if state.preferences.low_position else 24
        self._layout.setContentsMargins(margin, margin, margin, margin)
        if state.preferences.low_position:
            # Wheelchair height: the top half stays empty, every control is in the lower half.
            box.addStretch(1)
            lower = QVBoxLayout()
            box.addLayout(lower, 1)
        else:
            lower = box
        if warning:
            lower.addWidget(self.label(text(state.language, "idle_warning"), "banner", "idle"))
        builder = BUILDERS[state.screen]
        builder(self, state, lower)
        lower.addWidget(self._preferences_bar(state))
        self._content = content
        self._layout.addWidget(content)
        content.show()  # at once, not on the next event loop turn: screenshots and taps see it
        self._speak(state)

    def label(self, value: str, role: str = "", name: str = "") -> QLabel:
        """A word-wrapped label (see `widgets.make_label`)."""
        return make_label(value, role, name)

    def button(
        self, value: str, name: str, action: Callable[[], None], role: str = ""
    ) -> QPushButton:
        """A touch button (see `widgets.make_button`)."""
        return make_button(value, name, action, role)

    def _speak(self, state: State) -> None:
        if not state.preferences.voice:
            return
        key = (state.screen, state.language, speech_for(state))
        if key != self._spoken:
            self._spoken = key
            self.controller.voice.speak(key[2], state.language)

    # --- the PIN pad's digits (kept here: the pad's widgets are rebuilt) ----------------------

    def show_pin(self) -> None:
        if self.pin_display is not None:
            shown = "●" * len(self._pin) + "○" * (4 - len(self._pin))
            self.pin_display.setText(" ".join(shown))

    def pin_digit(self, digit: str) -> None:
        if len(self._pin) < 4:
            self._pin.append(digit)
        self.show_pin()

    def pin_clear(self) -> None:
        self._pin.clear()
        self.show_pin()

    def pin_submit(self) -> None:
        pin = "".join(self._pin)
        self._pin.clear()  # before the command runs: a rebuild or a second tap finds nothing
        self.show_pin()
        self.controller.submit_pin(pin)

    def _preferences_bar(self, state: State) -> QWidget:
        lang = state.language
        bar = QWidget()
        row = QHBoxLayout(bar)
        row.setContentsMargins(0, 0, 0, 0)
        prefs = state.preferences
        for field, key in (
            ("large_text", "larger_text"),
            ("high_contrast", "high_contrast"),
            ("low_position", "low_position"),
            ("voice", "voice"),
        ):
            value = bool(getattr(prefs, field))
            button = self.button(
                text(lang, key),
                f"pref-{field}",
                partial(self._set_pref, field, not value),
                "toggle",
            )
            button.setCheckable(True)
            button.setChecked(value)
            row.addWidget(button)
        return bar

    def _set_pref(self, field: str, value: bool) -> None:
        from dataclasses import replace

        prefs = replace(self.controller.flow.state.preferences, **{field: value})
        self.controller.set_preferences(prefs)

    def update_preview(self) -> None:
        if self.preview is None:
            return
        frame = self.controller.latest_frame()
        if frame is not None:
            self.preview.setPixmap(frame_pixmap(frame, min(640, max(320, self.width() // 2))))

    def _feedback(self, accepted: bool) -> None:
        """Audible and visual feedback for a read code (the message follows from the flow)."""
        QApplication.beep()
        if self.preview is not None:
            colour = "#00c853" if accepted else "#b00020"
            self.preview.setStyleSheet(f"border: 8px solid {colour};")
