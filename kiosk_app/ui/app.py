"""Build and run the kiosk: settings -> client, devices, flow -> controller -> window."""

from __future__ import annotations

import logging
import sys

from PySide6.QtWidgets import QApplication

from kiosk_app.client import KioskClient
from kiosk_app.devices.card.station import CardStation
from kiosk_app.devices.printing import SlipPrinter
from kiosk_app.devices.scanners import open_scanner
from kiosk_app.devices.voice import GuideVoice
from kiosk_app.flow import Flow, Timeouts
from kiosk_app.settings import KioskSettings
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.window import KioskWindow

log = logging.getLogger(__name__)


def build(settings: KioskSettings) -> tuple[KioskController, KioskWindow]:
    """The controller and window for `settings` (a QApplication must exist)."""
    import time

    client = KioskClient(settings.server_url, settings.token)
    printer = SlipPrinter(
        settings.resolved_printer_url(),
        office_name="",
        profile=settings.printer_profile,
        timeout_s=settings.printer_timeout_s,
    )
    reader_url = settings.resolved_reader_url()
    card = CardStation(reader_url) if reader_url else None
    flow = Flow(
        Timeouts(idle=settings.idle_seconds, ticket=settings.ticket_seconds),
        now=time.monotonic(),
        card_reader=card is not None,
        general_category=settings.general_category,
    )
    controller = KioskController(flow, client, printer, voice=GuideVoice(), card=card)
    controller.scanner = open_scanner(settings.resolved_scanner_url(), controller.frame_seen)
    window = KioskWindow(controller, dpi=settings.dpi)
    return controller, window


def run(settings: KioskSettings) -> int:
    """Show the kiosk until the window is closed."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    controller, window = build(settings)
    reader_url = settings.resolved_reader_url()
    if settings.dpi is None:
        screen = app.primaryScreen()  # type: ignore[attr-defined]
        window.dpi = screen.physicalDotsPerInch() if screen is not None else None
    controller.start()
    if settings.fullscreen:
        window.showFullScreen()
    else:
        window.resize(1280, 800)
        window.show()
    print(
        f"Madoguchi kiosk: server {settings.server_url}, printer {settings.resolved_printer_url()},"
        f" scanner {settings.resolved_scanner_url()}, card reader {reader_url or 'none'}",
        flush=True,
    )
    try:
        return int(app.exec())
    finally:
        controller.stop()
