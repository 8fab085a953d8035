"""The kiosk window: renders `Flow.state`, forwards touches to the controller.

Each state change rebuilds the current screen from the state (the screens are small), so what
is shown is always a function of the state. Buttons carry object names (`lang-en`,
`category-certificates`, `issue`...) that tests and the voice guide use.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.flow import Preferences, Screen, State
from kiosk_app.i18n import text
from kiosk_app.speech import speech_for
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.screens import Page, builders
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
        content = QWidget(self)  # in the window at once: its widgets are polished as built
        outer = QVBoxLayout(content)
        outer.setContentsMargins(0, 0, 0, 0)
        low = state.preferences.low_position
        outer.setSpacing(8 if low else 16)
        margin = 12 if low else 24
        self._layout.setContentsMargins(margin, margin, margin, margin)
        if low:
            # Wheelchair height: the top half stays empty, every control is in the lower half.
            spacer = QWidget()
            spacer.setFixedHeight((self.height() - 2 * margin) // 2)
            outer.addWidget(spacer)
        if warning:
            outer.addWidget(self.label(text(state.language, "idle_warning"), "banner", "idle"))
        body = QWidget()
        body.setObjectName("body-content")
        page = Page(QVBoxLayout(body), QVBoxLayout())
        page.body.setContentsMargins(0, 0, 0, 0)
        page.body.setSpacing(8 if low else 16)
        page.actions.setSpacing(8)
        # The body scrolls when large text or a long language needs more than the screen:
        # nothing is squeezed or cut, and the actions and settings below stay in reach.
        scroll = QScrollArea()
        scroll.setObjectName("body")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # A wide bar to drag: a drag gesture on the body would delay every tap on its buttons.
        scroll.verticalScrollBar().setMinimumWidth(self.theme.target_px // 2)
        scroll.setWidget(body)
        builders()[state.screen](self, state, page)
        outer.addWidget(scroll, 1)
        outer.addLayout(page.actions)
        outer.addWidget(self._preferences_bar(state))
        self._content = content
        self._layout.addWidget(content)
        content.show()  # at once, not on the next event loop turn: screenshots and taps see it
        self._speak(state)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        # Columns, the portrait layout and the wheelchair-height spacer follow the size.
        if event.oldSize().isValid() and event.oldSize() != event.size():
            self._rendered = None
            self.show_state()

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
        bar = QWidget()
        bar.setObjectName("preferences")
        grid = QGridLayout(bar)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        prefs = state.preferences
        # On the first screen no language is chosen yet: every language names the settings.
        languages = state.languages if state.screen is Screen.LANGUAGE else (state.language,)
        # Four in a row; two by two on a portrait screen, or when every language names them
        # (wider buttons: fewer wrapped lines, so the language buttons keep the room).
        columns = 4 if self.width() >= self.height() and len(languages) == 1 else 2
        for i, (field, key) in enumerate(
            (
                ("large_text", "larger_text"),
                ("high_contrast", "high_contrast"),
                ("low_position", "low_position"),
                ("voice", "voice"),
            )
        ):
            value = bool(getattr(prefs, field))
            captions = dict.fromkeys(text(lang, key) for lang in languages)
            button = self.button(
                " / ".join(captions),
                f"pref-{field}",
                partial(self._set_pref, field, not value),
                "toggle",
            )
            button.setAccessibleName(text(state.language, key))
            # Seven languages in one button: a smaller size, so the language buttons keep
            # their room on the first screen.
            button.setProperty("legend", len(languages) > 1)
            button.setCheckable(True)
            button.setChecked(value)
            grid.addWidget(button, i // columns, i % columns)
        for column in range(columns):
            grid.setColumnStretch(column, 1)
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
