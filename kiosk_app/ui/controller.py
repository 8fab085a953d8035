"""Glue between the pure flow, the server client and the devices, on the Qt side.

The flow decides; this object carries out its commands in worker threads (server calls,
printing) and feeds the outcomes back on the GUI thread through a queued signal, so nothing
slow ever runs where the visitor's touches are handled. Card I/O has its own single worker, so
the reader sees one command at a time in the order the flow asked for them.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from kiosk_app.client import KioskClient, ServerError, StatusFeed
from kiosk_app.devices.card.session import (
    CardError,
    CardRemoved,
    NoCard,
    NotMyNumberCard,
    PinLocked,
    WrongPin,
)
from kiosk_app.devices.card.station import CardStation
from kiosk_app.devices.printing import SlipPrinter
from kiosk_app.devices.scanners import HidScanner, ScanSource
from kiosk_app.devices.voice import SilentVoice, Voice
from kiosk_app.flow import (
    CheckCard,
    Command,
    Flow,
    IssueTicket,
    Preferences,
    PrintTicket,
    ReadCardTries,
    ReleaseCard,
    Screen,
    VerifyAndReadCard,
    VerifyCode,
)
from kiosk_app.ui.gui_gc import GuiThreadCollector

log = logging.getLogger(__name__)
TOKYO = ZoneInfo("Asia/Tokyo")
CARD_COMMANDS = (CheckCard, ReadCardTries, VerifyAndReadCard, ReleaseCard)
# Screens that wait for the visitor with the card in the reader: its presence is polled there.
_CARD_WAITING = (Screen.CARD_INSERT, Screen.CARD_CONSENT, Screen.CARD_PIN)


def _tokyo_today() -> date:
    return datetime.now(TOKYO).date()


class KioskController(QObject):
    """Runs a Flow against the real world; `changed` fires after every state change."""

    changed = Signal()
    scanned_feedback = Signal(bool)  # a code was read (True) or refused (False)
    # Argument-free on purpose: a queued signal carrying a Python object makes the emitting
    # worker take the GIL while Qt holds a signal-slot mutex, which deadlocks against the GUI
    # thread rebuilding widgets (seen in tests). Actions travel through `_inbox` instead.
    _wake = Signal()

    def __init__(
        self,
        flow: Flow,
        client: KioskClient,
        printer: SlipPrinter | None,
        scanner: ScanSource | None = None,
        voice: Voice | None = None,
        clock: Callable[[], float] = time.monotonic,
        office_retry_s: float = 3.0,
        card: CardStation | None = None,
        today: Callable[[], date] = _tokyo_today,
    ) -> None:
        super().__init__()
        self.flow = flow
        self.client = client
        self.printer = printer
        self.scanner = scanner
        self.voice: Voice = voice or SilentVoice()
        self.clock = clock
        self._office_retry_s = office_retry_s
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="kiosk-io")
        self.card = card
        self.today = today
        self._card_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-card")
        self._card_check_pending = False
        self.card_thread: threading.Thread | None = None  # where card I/O last ran (tests)
        self._inbox: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake.connect(self._run_posted)
        self._feed: StatusFeed | None = None
        self._frame_lock = threading.Lock()
        self._latest_frame: np.ndarray | None = None
        self.last_print: Any = None  # the last PrintResult, for the status line and tests
        self._timer = QTimer(self)
        self._timer.setInterval(500)
        self._timer.timeout.connect(self.tick)
        self._office_timer = QTimer(self)
        self._office_timer.setSingleShot(True)
        self._office_timer.timeout.connect(self.load_office)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        GuiThreadCollector.acquire()
        self.load_office()
        self._feed = StatusFeed(
            self.client.ws_url(),
            self.client.token,
            on_status=lambda status: self.post(lambda: self._status(status)),
            on_connection=lambda up: self.post(lambda: self._connection(up)),
        )
        self._feed.start()
        if self.scanner is not None:
            self.scanner.start(lambda text: self.post(lambda: self.scanned(text)))
        if self.printer is not None:
            self._pool.submit(self._report_health)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._office_timer.stop()
        if self._feed is not None:
            self._feed.stop()
        if self.scanner is not None:
            self.scanner.stop()
        self.voice.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.card is not None:
            self._card_pool.submit(self.card.release)
        self._card_pool.shutdown(wait=True, cancel_futures=False)
        while not self._inbox.empty():  # callbacks for a stopped kiosk: drop them (and self)
            self._inbox.get_nowait()
        self.client.close()
        GuiThreadCollector.release()

    def post(self, action: Callable[[], None]) -> None:
        """Run `action` on the GUI thread (safe to call from any thread)."""
        self._inbox.put(action)
        self._wake.emit()

    def _run_posted(self) -> None:
        # One wake-up may find several actions (or none: an earlier call took them).
        while True:
            try:
                action = self._inbox.get_nowait()
            except queue.Empty:
                return
            action()

    def _changed(self) -> None:
        self.changed.emit()

    # --- server data -------------------------------------------------------------------------

    def load_office(self) -> None:
        def work() -> None:
            try:
                office = self.client.office()
            except ServerError as exc:
                log.info("office not loaded: %s", exc.code)
                self.post(lambda: self._office_timer.start(int(self._office_retry_s * 1000)))
                return
            # The office first: the live figures are applied to its categories, and a
            # snapshot that arrives before them is not sent again until something changes.
            self.post(lambda: self._office(office))
            try:
                forms = self.client.forms()
            except ServerError as exc:  # the card button stays hidden; plain tickets work
                log.info("request forms not loaded: %s", exc.code)
                return
            self.post(lambda: self._forms(forms))

        self._pool.submit(work)

    def _forms(self, forms: dict[str, Any]) -> None:
        self.flow.forms_loaded(forms)
        self._changed()

    def _office(self, office: dict[str, Any]) -> None:
        self.flow.office_loaded(office)
        if self.printer is not None:
            self.printer.office_name = office.get("names", {}).get("ja", self.printer.office_name)
        self._changed()

    def _status(self, status: dict[str, Any]) -> None:
        if not self.flow.state.office_loaded:
            self.load_office()
        self.flow.status_received(status)
        self._changed()

    def _connection(self, connected: bool) -> None:
        self.flow.connection_changed(connected)
        if connected:
            self.load_office()  # hours or categories may have changed while we were away
        self._changed()

    # --- visitor actions ---------------------------------------------------------------------

    def act(self, method: Callable[..., list[Command] | None], *args: Any) -> None:
        """Call a flow method with the time, then carry out what it asks."""
        commands = method(*args, self.clock())
        # Start the slow work (request, print job) before redrawing, so the slip is not
        # delayed by the ticket screen's QR drawing.
        for command in commands or []:
            self._submit(command)
        self._changed()

    def _submit(self, command: Command) -> None:
        if isinstance(command, CARD_COMMANDS):
            if isinstance(command, CheckCard):
                self._card_check_pending = True
            self._card_pool.submit(self._card_step, command)
        else:
            self._pool.submit(self._execute, command)

    def choose_language(self, language: str) -> None:
        self.act(self.flow.choose_language, language)

    def choose_category(self, category_id: str) -> None:
        self.act(self.flow.choose_category, category_id)

    def choose_unsure(self) -> None:
        self.act(self.flow.choose_unsure)

    def open_scan(self) -> None:
        self.act(self.flow.open_scan)

    def toggle_assistance(self) -> None:
        self.act(self.flow.toggle_assistance)

    def confirm(self) -> None:
        self.act(self.flow.confirm)

    def back(self) -> None:
        self.act(self.flow.back)

    def start_over(self) -> None:
        self.act(self.flow.start_over)

    def set_preferences(self, preferences: Preferences) -> None:
        self.act(self.flow.set_preferences, preferences)

    def touch(self) -> None:
        self.flow.touch(self.clock())

    def start_card(self) -> None:
        self.act(self.flow.start_card)

    def choose_form(self, form_id: str) -> None:
        self.act(self.flow.choose_form, form_id)

    def card_consent(self) -> None:
        self.act(self.flow.card_consent)

    def submit_pin(self, pin: str) -> None:
        """The PIN goes straight into one VERIFY command; nothing here keeps it."""
        self.act(self.flow.submit_pin, pin)

    def set_field(self, name: str, value: object) -> None:
        self.act(self.flow.set_field, name, value)

    def continue_without_card(self) -> None:
        self.act(self.flow.continue_without_card)

    def scanned(self, text: str) -> None:
        self.act(self.flow.scanned, text)

    def key_typed(self, text: str) -> None:
        """Keystrokes reach a keyboard-wedge scanner, if that is the configured source."""
        if isinstance(self.scanner, HidScanner):
            self.scanner.feed(text, self.clock())

    def tick(self) -> None:
        GuiThreadCollector.collect()
        if self.flow.tick(self.clock()):
            self.voice.stop()
            self._submit(ReleaseCard())  # the idle wipe also lets go of the card
        elif self.flow.state.screen in _CARD_WAITING and not self._card_check_pending:
            self._submit(CheckCard())
        self._changed()

    # --- preview -----------------------------------------------------------------------------

    def frame_seen(self, frame: np.ndarray) -> None:
        """Called by the scanner's worker thread; the GUI picks the frame up on its timer."""
        with self._frame_lock:
            self._latest_frame = frame

    def latest_frame(self) -> np.ndarray | None:
        with self._frame_lock:
            return self._latest_frame

    # --- commands (worker threads) -----------------------------------------------------------

    def _execute(self, command: Command) -> None:
        try:
            if isinstance(command, IssueTicket):
                self._issue(command)
            elif isinstance(command, VerifyCode):
                self._verify(command)
            elif isinstance(command, PrintTicket):
                self._print(command)
        except Exception:
            # A bug must not leave the visitor on a spinner: show the staff notice.
            log.exception("kiosk command failed")
            self.post(lambda: self._finish(self.flow.issue_failed, "refused"))

    def _finish(self, method: Callable[..., list[Command] | None], *args: Any) -> None:
        self.act(method, *args)

    # --- card (its own worker thread) --------------------------------------------------------

    def _card_step(self, command: Command) -> None:
        """Run one card command; outcomes go back to the flow, never card data to a log."""
        self.card_thread = threading.current_thread()
        card = self.card
        if isinstance(command, ReleaseCard):
            if card is not None:
                card.release()
            return
        if isinstance(command, CheckCard):
            present = False
            try:
                present = card is not None and card.present()
            except Exception as exc:  # a reader that went away counts as "no card"
                log.info("card reader check failed (%s)", type(exc).__name__)
            self.post(lambda: self._card_checked(present))
            return
        try:
            if card is None:
                raise NoCard("no card reader configured")
            if isinstance(command, ReadCardTries):
                tries = card.tries_left()
                self.post(lambda: self._finish(self.flow.card_tries, tries))
            elif isinstance(command, VerifyAndReadCard):
                items = card.verify_and_read(command.pin)
                today = self.today()
                self.post(lambda: self._finish(self.flow.card_read, items, today))
        except WrongPin as exc:
            left = exc.tries_left
            self.post(lambda: self._finish(self.flow.card_failed, "wrong_pin", left))
        except PinLocked:
            self.post(lambda: self._finish(self.flow.card_failed, "locked", 0))
        except (CardRemoved, NoCard):
            self.post(lambda: self._finish(self.flow.card_failed, "removed", None))
        except NotMyNumberCard:
            self.post(lambda: self._finish(self.flow.card_failed, "not_mynumber", None))
        except Exception as exc:
            # Only the type and our error code: messages of foreign exceptions are not ours
            # to vouch for, and card data must never reach a log.
            code = exc.code if isinstance(exc, CardError) else type(exc).__name__
            log.warning("card step failed (%s)", code)
            if card is not None:
                card.release()
            self.post(lambda: self._finish(self.flow.card_failed, "unreadable", None))

    def _card_checked(self, present: bool) -> None:
        self._card_check_pending = False
        self.act(self.flow.card_present, present)

    def _issue(self, command: IssueTicket) -> None:
        try:
            ticket = self.client.issue(
                command.category_id,
                command.language,
                command.priority,
                command.code,
                command.request,
            )
        except ServerError as exc:
            code = exc.code  # `exc` is unbound once the except block ends
            self.post(lambda: self._finish(self.flow.issue_failed, code))
            return
        self.post(lambda: self._finish(self.flow.ticket_issued, ticket))

    def _verify(self, command: VerifyCode) -> None:
        try:
            code = self.client.verify_code(command.text)
        except ServerError as exc:
            error = exc.code
            self.post(lambda: self.scanned_feedback.emit(False))
            if error == "server_unreachable":
                self.post(lambda: self._finish(self.flow.issue_failed, error))
            else:
                self.post(lambda: self._finish(self.flow.code_rejected, error))
            return
        self.post(lambda: self.scanned_feedback.emit(True))
        self.post(lambda: self._finish(self.flow.code_verified, code, command.text))

    def _print(self, command: PrintTicket) -> None:
        if self.printer is None:
            self.post(lambda: self._printed(False))
            return
        result = self.printer.print_ticket(command.ticket, command.category, command.language)
        self.last_print = result
        # The visitor learns the outcome before the reports go out.
        self.post(lambda: self._printed(result.ok))
        reason = result.reason.value if result.reason is not None else None
        try:
            self.client.report_print(
                int(command.ticket["id"]), result.ok, reason, result.status_before.as_dict()
            )
            status = result.status_after or result.status_before
            self.client.report_health(status.as_dict())
        except ServerError as exc:
            log.warning("print outcome not reported: %s", exc.code)

    def _printed(self, ok: bool) -> None:
        self.flow.print_finished(ok, self.clock())
        self._changed()

    def _report_health(self) -> None:
        if self.printer is None:
            return
        try:
            self.client.report_health(self.printer.status().as_dict())
        except ServerError as exc:
            log.info("printer health not reported: %s", exc.code)
