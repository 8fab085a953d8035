"""The kiosk window: renders `Flow.state`, forwards touches to the controller.

Each state change rebuilds the current screen from the state (the screens are small), so what
is shown is always a function of the state. Buttons carry object names (`lang-en`,
`category-certificates`, `issue`...) that tests and the voice guide use.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk_app.flow import FormField, Notice, Preferences, Printing, Screen, State, label
from kiosk_app.i18n import LANGUAGE_NAMES, notice_text, speakable_number, text, wait_text
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.theme import Theme, theme_for

LANGUAGE_ORDER = ("ja", "en", "zh-Hans", "ko", "vi", "pt", "ja-easy")


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


def speech_for(state: State) -> str:
    """What the voice guide says for a screen: its title and the essentials."""
    lang = state.language
    screen = state.screen
    if screen is Screen.LANGUAGE:
        return text(lang, "choose_language")
    if screen is Screen.PROCEDURES:
        names = "、".join(c.name(lang) for c in state.categories if c.open)
        return f"{text(lang, 'choose_procedure')}. {names}"
    if screen is Screen.SCAN:
        return text(lang, state.message or "scan_title")
    if screen is Screen.CONFIRM:
        category = state.category()
        name = category.name(lang) if category else ""
        return f"{text(lang, 'confirm_title')}. {name}. {text(lang, 'issue_button')}"
    if screen is Screen.ISSUING:
        return text(lang, "issuing")
    if screen is Screen.TICKET and state.ticket is not None:
        number = speakable_number(lang, str(state.ticket.get("number", "")))
        line = "printer_trouble" if state.printing is Printing.FAILED else "take_slip"
        return f"{text(lang, 'your_number')}: {number}. {text(lang, line)}"
    if screen is Screen.NOTICE:
        headline = notice_text(lang, state.notice or "", state.notice_reason)
        return f"{headline} {text(lang, 'ask_staff')}"
    # Card screens: the title only (never card data or PIN digits).
    card_titles = {
        Screen.CARD_FORMS: "card_choose_form",
        Screen.CARD_INSERT: state.message or "card_insert_title",
        Screen.CARD_CONSENT: "card_consent_purpose",
        Screen.CARD_PIN: "card_pin_title",
        Screen.CARD_READING: state.message or "card_reading",
        Screen.CARD_LOCKED: "card_locked_title",
    }
    if screen is Screen.REQUEST_FORM:
        return f"{text(lang, 'take_card')}. {text(lang, 'request_title')}"
    key = card_titles.get(screen)
    return text(lang, key) if key else ""


class _InputWatcher(QObject):
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
        self._preview: QLabel | None = None
        # The PIN lives here, and only here, until the one VERIFY: screens are rebuilt on
        # every status update, so the digits cannot live in the (short-lived) pad widgets.
        self._pin: list[str] = []
        self._pin_display: QLabel | None = None
        self._pin_for: tuple[Screen, int | None, str | None] = (Screen.LANGUAGE, None, None)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(24, 24, 24, 24)
        self.theme: Theme = theme_for(Preferences(), dpi)
        controller.changed.connect(self.show_state)
        controller.scanned_feedback.connect(self._feedback)
        self._keys = _InputWatcher(controller.touch, controller.key_typed)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._keys)
        self._preview_timer = QTimer(self)
        self._preview_timer.setInterval(100)
        self._preview_timer.timeout.connect(self._update_preview)
        self._preview_timer.start()
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
        self._preview = None
        self._pin_display = None
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
            lower.addWidget(self._label(text(state.language, "idle_warning"), "banner", "idle"))
        builder = {
            Screen.LANGUAGE: self._language,
            Screen.PROCEDURES: self._procedures,
            Screen.SCAN: self._scan,
            Screen.CONFIRM: self._confirm,
            Screen.ISSUING: self._issuing,
            Screen.TICKET: self._ticket,
            Screen.NOTICE: self._notice,
            Screen.CARD_FORMS: self._card_forms,
            Screen.CARD_INSERT: self._card_insert,
            Screen.CARD_CONSENT: self._card_consent,
            Screen.CARD_PIN: self._card_pin,
            Screen.CARD_READING: self._card_reading,
            Screen.CARD_LOCKED: self._card_locked,
            Screen.REQUEST_FORM: self._request_form,
        }[state.screen]
        builder(state, lower)
        lower.addWidget(self._preferences_bar(state))
        self._content = content
        self._layout.addWidget(content)
        content.show()  # at once, not on the next event loop turn: screenshots and taps see it
        self._speak(state)

    def _speak(self, state: State) -> None:
        if not state.preferences.voice:
            return
        key = (state.screen, state.language, speech_for(state))
        if key != self._spoken:
            self._spoken = key
            self.controller.voice.speak(key[2], state.language)

    def _label(self, value: str, role: str = "", name: str = "") -> QLabel:
        label = QLabel(value)
        label.setWordWrap(True)
        if role:
            label.setProperty("role", role)
        if name:
            label.setObjectName(name)
        return label

    def _button(
        self, value: str, name: str, action: Callable[[], None], role: str = ""
    ) -> QPushButton:
        button = QPushButton(value)
        button.setObjectName(name)
        if role:
            button.setProperty("role", role)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        button.clicked.connect(lambda: action())  # drop the `checked` argument
        button.setAccessibleName(value.replace("\n", " "))
        return button

    def _office_name(self, state: State) -> str:
        names = state.office_names
        return names.get(state.language) or names.get("ja") or ""

    def _language(self, state: State, box: QVBoxLayout) -> None:
        box.addWidget(self._label(self._office_name(state) or "受付 / Reception", "muted"))
        titles = " / ".join(text(lang, "choose_language") for lang in ("ja", "en"))
        box.addWidget(self._label(titles, "title", "title"))
        if state.office_loaded and not state.office_open:
            reason = state.office_closed_reason
            closed = " / ".join(notice_text(lang, "office_closed", reason) for lang in ("ja", "en"))
            box.addWidget(self._label(closed, "alert", "closed-banner"))
        grid = QGridLayout()
        grid.setSpacing(16)
        columns = 2 if self.height() > self.width() else 3
        for i, lang in enumerate(LANGUAGE_ORDER):
            button = self._button(
                LANGUAGE_NAMES[lang],
                f"lang-{lang}",
                partial(self.controller.choose_language, lang),
                "primary" if lang == "ja" else "",
            )
            grid.addWidget(button, i // columns, i % columns)
        box.addLayout(grid, 1)

    def _procedures(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addWidget(self._label(text(lang, "choose_procedure"), "title", "title"))
        if not state.connected:
            box.addWidget(self._label(text(lang, "figures_offline"), "muted", "offline"))
        low = state.preferences.low_position
        grid = QGridLayout()
        grid.setSpacing(8 if low else 16)
        columns = 3 if low and self.width() > self.height() else 2  # fewer rows when low
        for i, category in enumerate(state.categories):
            lines = [category.name(lang)]
            if lang != "ja":
                lines.append(category.name("ja"))
            if not category.open:
                lines.append(text(lang, "tile_closed"))
            elif category.waiting is not None:
                wait = wait_text(lang, category.estimate_minutes)
                lines.append(f"{text(lang, 'waiting_people', n=category.waiting)}・{wait}")
            button = self._button(
                "\n".join(lines),
                f"category-{category.id}",
                partial(self.controller.choose_category, category.id),
                "" if category.open else "closed",
            )
            grid.addWidget(button, i // columns, i % columns)
        box.addLayout(grid, 1)
        row = QHBoxLayout()
        row.addWidget(self._button(text(lang, "back"), "back", self.controller.back), 1)
        row.addWidget(self._button(text(lang, "have_code"), "scan", self.controller.open_scan), 3)
        box.addLayout(row)

    def _scan(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addWidget(self._label(text(lang, "scan_title"), "title", "title"))
        box.addWidget(self._label(text(lang, "scan_hint"), "muted"))
        self._preview = self._label("", "", "preview")
        self._preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._preview.setMinimumHeight(240)
        box.addWidget(self._preview, 1)
        self._update_preview()
        if state.message:
            role = "muted" if state.message == "checking_code" else "alert"
            message = text(lang, state.message)
            if state.message != "checking_code":
                message = f"{message} {text(lang, 'ask_staff')}"
            box.addWidget(self._label(message, role, "message"))
        box.addWidget(self._button(text(lang, "back"), "back", self.controller.back))

    def _confirm(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        category = state.category()
        if category is None:
            return
        box.addWidget(self._label(text(lang, "confirm_title"), "title", "title"))
        if state.prefill is not None:
            key = f"prefill_{state.prefill.kind}"
            if key in ("prefill_reservation", "prefill_preapplication"):
                box.addWidget(self._label(text(lang, key), "banner", "prefill"))
        box.addWidget(self._label(category.name(lang), "title", "category"))
        if lang != "ja":
            box.addWidget(self._label(category.name("ja"), "muted"))
        if category.waiting is not None:
            figures = wait_text(
                lang, category.estimate_minutes, category.estimate_low, category.estimate_high
            )
            box.addWidget(
                self._label(f"{text(lang, 'waiting_people', n=category.waiting)}・{figures}")
            )
        box.addStretch(1)
        flow = self.controller.flow
        if state.prefill is None and not state.card_unusable and flow.card_forms():
            box.addWidget(
                self._button(text(lang, "card_button"), "card-request", self.controller.start_card)
            )
        if state.prefill is None:
            assistance = self._button(
                text(lang, "assistance_on" if state.assistance else "assistance"),
                "assistance",
                self.controller.toggle_assistance,
                "toggle",
            )
            assistance.setCheckable(True)
            assistance.setChecked(state.assistance)
            box.addWidget(assistance)
        row = QHBoxLayout()
        row.addWidget(self._button(text(lang, "back"), "back", self.controller.back), 1)
        row.addWidget(
            self._button(text(lang, "issue_button"), "issue", self.controller.confirm, "primary"), 2
        )
        box.addLayout(row)

    def _issuing(self, state: State, box: QVBoxLayout) -> None:
        box.addStretch(1)
        box.addWidget(self._label(text(state.language, "issuing"), "title", "issuing"))
        box.addStretch(1)

    def _ticket(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        ticket = state.ticket or {}
        category = state.category(str(ticket.get("category_id", "")))
        row = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self._label(text(lang, "your_number"), "title"))
        number = self._label(str(ticket.get("number", "")), "number", "number")
        left.addWidget(number)
        if category is not None:
            left.addWidget(self._label(category.name(lang), "", "category"))
        ahead = ticket.get("ahead")
        if isinstance(ahead, int):
            wait = wait_text(
                lang,
                ticket.get("estimated_wait_minutes"),
                ticket.get("estimate_low_minutes"),
                ticket.get("estimate_high_minutes"),
            )
            left.addWidget(self._label(f"{text(lang, 'ahead', n=ahead)}・{wait}"))
        if category is not None:
            area = category.waiting_area.get(lang) or category.waiting_area.get("ja")
            if area:
                left.addWidget(self._label(text(lang, "wait_in", area=area)))
        row.addLayout(left, 3)
        right = QVBoxLayout()
        qr = QLabel()
        qr.setObjectName("qr")
        status_url = str(ticket.get("status_url", ""))
        if status_url:
            qr.setPixmap(qr_pixmap(status_url, max(220, self.theme.target_px * 4)))
            qr.setProperty("payload", status_url)
        right.addWidget(qr)
        right.addWidget(self._label(text(lang, "follow_on_phone"), "muted"))
        row.addLayout(right, 2)
        box.addLayout(row, 1)
        if state.printing is Printing.FAILED:
            box.addWidget(self._label(text(lang, "printer_trouble"), "alert", "print-status"))
        elif state.printing is Printing.PRINTED:
            box.addWidget(self._label(text(lang, "take_slip"), "banner", "print-status"))
        else:
            box.addWidget(self._label(text(lang, "printing"), "muted", "print-status"))
        box.addWidget(
            self._button(text(lang, "done_button"), "done", self.controller.start_over, "primary")
        )

    def _notice(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addStretch(1)
        headline = notice_text(lang, state.notice or "", state.notice_reason)
        box.addWidget(self._label(headline, "title", "notice"))
        if state.notice is Notice.OFFICE_CLOSED and state.hours_today:
            box.addWidget(self._label(text(lang, "hours_today", hours=state.hours_today)))
        box.addWidget(self._label(text(lang, "ask_staff"), "alert", "ask-staff"))
        if lang != "ja":
            # Japanese underneath, so staff called over read the same message.
            japanese = notice_text("ja", state.notice or "", state.notice_reason)
            box.addWidget(self._label(f"{japanese} {text('ja', 'ask_staff')}", "muted"))
        box.addStretch(1)
        box.addWidget(
            self._button(text(lang, "start_over"), "start-over", self.controller.start_over)
        )

    # --- MyNumber card and the request form ------------------------------------------------

    def _message(self, state: State, box: QVBoxLayout, muted: tuple[str, ...] = ()) -> None:
        if state.message:
            role = "muted" if state.message in muted else "alert"
            box.addWidget(self._label(text(state.language, state.message), role, "message"))

    def _card_forms(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addWidget(self._label(text(lang, "card_choose_form"), "title", "title"))
        for form in self.controller.flow.card_forms():
            box.addWidget(
                self._button(
                    label(form.labels, lang),
                    f"form-{form.id}",
                    partial(self.controller.choose_form, form.id),
                )
            )
        box.addStretch(1)
        box.addWidget(self._button(text(lang, "back"), "back", self.controller.back))

    def _card_insert(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addWidget(self._label(text(lang, "card_insert_title"), "title", "title"))
        box.addWidget(self._label(text(lang, "card_insert_hint"), "muted"))
        self._message(state, box)
        box.addStretch(1)
        box.addWidget(self._button(text(lang, "back"), "back", self.controller.back))

    def _card_consent(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addWidget(self._label(text(lang, "card_consent_title"), "title", "title"))
        box.addWidget(self._label(text(lang, "card_consent_purpose"), "banner", "purpose"))
        box.addWidget(self._label(text(lang, "card_consent_keep")))
        box.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self._button(text(lang, "back"), "back", self.controller.back), 1)
        row.addWidget(
            self._button(
                text(lang, "card_agree"), "card-agree", self.controller.card_consent, "primary"
            ),
            2,
        )
        box.addLayout(row)

    def _card_pin(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addWidget(self._label(text(lang, "card_pin_title"), "title", "title"))
        box.addWidget(self._label(text(lang, "card_pin_hint"), "muted"))
        tries = state.card_tries or 0
        box.addWidget(self._label(text(lang, "card_tries", n=tries), "", "card-tries"))
        if tries == 1:
            box.addWidget(self._label(text(lang, "card_last_try"), "alert", "card-last-try"))
        self._message(state, box)
        row = QHBoxLayout()
        display = self._label("", "number", "pin-display")
        display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._pin_display = display
        self._show_pin()
        row.addWidget(display, 1)
        pad = QGridLayout()
        pad.setSpacing(8)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"]
        for i, key in enumerate(keys):
            if key == "clear":
                button = self._button(text(lang, "pin_clear"), "pin-clear", self._pin_clear)
            elif key == "ok":
                button = self._button(text(lang, "pin_ok"), "pin-ok", self._pin_submit, "primary")
            else:
                button = self._button(key, f"pin-{key}", partial(self._pin_digit, key))
            pad.addWidget(button, i // 3, i % 3)
        row.addLayout(pad, 1)
        box.addLayout(row, 1)
        box.addWidget(self._button(text(lang, "back"), "back", self.controller.back))

    def _show_pin(self) -> None:
        if self._pin_display is not None:
            shown = "●" * len(self._pin) + "○" * (4 - len(self._pin))
            self._pin_display.setText(" ".join(shown))

    def _pin_digit(self, digit: str) -> None:
        if len(self._pin) < 4:
            self._pin.append(digit)
        self._show_pin()

    def _pin_clear(self) -> None:
        self._pin.clear()
        self._show_pin()

    def _pin_submit(self) -> None:
        pin = "".join(self._pin)
        self._pin.clear()  # before the command runs: a rebuild or a second tap finds nothing
        self._show_pin()
        self.controller.submit_pin(pin)

    def _card_reading(self, state: State, box: QVBoxLayout) -> None:
        box.addStretch(1)
        key = state.message or "card_reading"
        box.addWidget(self._label(text(state.language, key), "title", "card-reading"))
        box.addStretch(1)

    def _card_locked(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        box.addStretch(1)
        box.addWidget(self._label(text(lang, "card_locked_title"), "title", "notice"))
        box.addWidget(self._label(text(lang, "card_locked_body")))
        box.addWidget(self._label(text(lang, "ask_staff"), "alert", "ask-staff"))
        if lang != "ja":
            japanese = f"{text('ja', 'card_locked_title')}。{text('ja', 'card_locked_body')}"
            box.addWidget(self._label(japanese, "muted"))
        box.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(
            self._button(text(lang, "start_over"), "start-over", self.controller.start_over), 1
        )
        row.addWidget(
            self._button(
                text(lang, "card_without"),
                "card-without",
                self.controller.continue_without_card,
                "primary",
            ),
            2,
        )
        box.addLayout(row)

    def _request_form(self, state: State, box: QVBoxLayout) -> None:
        lang = state.language
        flow = self.controller.flow
        form = state.form()
        prefill = state.prefill
        if form is None or prefill is None:
            return
        fields = prefill.fields
        box.addWidget(self._label(label(form.labels, lang), "title", "title"))
        box.addWidget(self._label(text(lang, "take_card"), "banner", "take-card"))
        card_items = "　".join(
            f"{label(f.labels, lang)}: {fields[f.name]}"
            for f in form.fields
            if f.from_card and isinstance(fields.get(f.name), str)
        )
        summary = QLabel(f"{text(lang, 'request_from_card')} — {card_items}")
        summary.setObjectName("card-items")
        summary.setWordWrap(True)
        summary.setTextFormat(Qt.TextFormat.PlainText)  # card text is data, never markup
        box.addWidget(summary)
        rows = QWidget()
        grid = QGridLayout(rows)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        questions = flow.touch_fields(form)
        line = 0
        for item in questions:
            if item.kind == "bool":
                continue
            grid.addWidget(self._label(label(item.labels, lang)), line, 0)
            grid.addLayout(self._field_row(state, item), line, 1)
            line += 1
        toggles = QHBoxLayout()  # the optional items share one row: fewer rows to scroll
        for item in questions:
            if item.kind == "bool":
                toggles.addLayout(self._field_row(state, item))
        if toggles.count():
            grid.addLayout(toggles, line, 0, 1, 2)
            line += 1
        grid.addWidget(self._label(text(lang, "request_others_note"), "muted"), line, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        scroll = QScrollArea()
        scroll.setObjectName("request-fields")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(rows)
        # Large text or a long form may not fit: the questions scroll (a wide scroll bar; a
        # drag gesture would delay every tap on the buttons inside).
        scroll.verticalScrollBar().setMinimumWidth(self.theme.target_px // 2)
        box.addWidget(scroll, 1)
        notes = label(form.notes, lang)
        if notes:
            box.addWidget(self._label(notes, "muted", "notes"))
        missing = flow.request_missing()
        if state.message:
            message = f"{text(lang, state.message)} {text(lang, 'ask_staff')}"
            box.addWidget(self._label(message, "alert", "message"))
        elif missing:
            box.addWidget(self._label(text(lang, "request_incomplete"), "muted", "missing"))
        row = QHBoxLayout()
        row.addWidget(self._button(text(lang, "back"), "back", self.controller.back), 1)
        issue = self._button(
            text(lang, "request_issue"), "issue", self.controller.confirm, "primary"
        )
        issue.setEnabled(not missing)
        row.addWidget(issue, 2)
        box.addLayout(row)

    def _keep_height(self, button: QPushButton) -> None:
        # In the scrolling question list a squeezed row would draw buttons over each other:
        # they keep their full height and the list scrolls instead.
        # The style's height (min-height + padding + border) is known only once the button is
        # polished inside the window, after the list is laid out: set it here explicitly.
        button.setMinimumHeight(self.theme.target_px + 2 * 10 + 2 * 4)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def _field_row(self, state: State, item: FormField) -> QHBoxLayout | QGridLayout:
        lang = state.language
        flow = self.controller.flow
        value = state.prefill.fields.get(item.name) if state.prefill else None
        row = QHBoxLayout()
        if item.kind == "int":
            low, high = flow.bounds(item)
            number = value if isinstance(value, int) else low
            minus = self._button(
                "−",
                f"field-{item.name}-minus",
                partial(self.controller.set_field, item.name, number - 1),
            )
            minus.setEnabled(number > low)
            self._keep_height(minus)
            plus = self._button(
                "+",
                f"field-{item.name}-plus",
                partial(self.controller.set_field, item.name, number + 1),
            )
            plus.setEnabled(number < high)
            self._keep_height(plus)
            shown = self._label(str(number), "title", f"field-{item.name}-value")
            shown.setAlignment(Qt.AlignmentFlag.AlignCenter)
            row.addWidget(minus, 1)
            row.addWidget(shown, 1)
            row.addWidget(plus, 1)
            row.addStretch(2)
            return row
        if item.kind == "bool":
            toggle = self._button(
                label(item.labels, lang),
                f"field-{item.name}",
                partial(self.controller.set_field, item.name, not bool(value)),
                "toggle",
            )
            toggle.setCheckable(True)
            toggle.setChecked(bool(value))
            self._keep_height(toggle)
            row.addWidget(toggle)
            return row
        relation = state.prefill.fields.get("relation") if state.prefill else None
        grid = QGridLayout()  # long lists (purposes) wrap onto a second row
        grid.setSpacing(8)
        for i, choice in enumerate(flow.choices(item)):
            caption = label(choice.labels, lang)
            if item.name == "scope":
                # 本人のみ: the card holder's own record; the schema's "some members" wording
                # would ask for names the kiosk cannot take.
                caption = text(
                    lang, "scope_household" if choice.value == "household" else "scope_self"
                )
            button = self._button(
                caption,
                f"field-{item.name}-{choice.value}",
                partial(self.controller.set_field, item.name, choice.value),
                "toggle",
            )
            button.setCheckable(True)
            button.setChecked(value == choice.value)
            self._keep_height(button)
            if item.name == "scope" and choice.value == "some" and relation == "household":
                button.setEnabled(False)
            grid.addWidget(button, i // 4, i % 4)
        return grid

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
            button = self._button(
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

    def _update_preview(self) -> None:
        if self._preview is None:
            return
        frame = self.controller.latest_frame()
        if frame is not None:
            self._preview.setPixmap(frame_pixmap(frame, min(640, max(320, self.width() // 2))))

    def _feedback(self, accepted: bool) -> None:
        """Audible and visual feedback for a read code (the message follows from the flow)."""
        QApplication.beep()
        if self._preview is not None:
            colour = "#00c853" if accepted else "#b00020"
            self._preview.setStyleSheet(f"border: 8px solid {colour};")
