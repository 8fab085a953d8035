"""The kiosk's slip printer: the printer package with the device URL from the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk_app.flow import Category
from printer.layout import make_profile
from printer.slip import slip_from_ticket
from printer.status import PrinterStatus, PrintResult
from printer.transports import open_printer


class SlipPrinter:
    """Prints a ticket's slip; `print_ticket` never raises for printer conditions."""

    def __init__(
        self,
        url: str,
        office_name: str,
        profile: str | None = None,
        timeout_s: float = 2.0,
    ) -> None:
        self.url = url
        self.office_name = office_name
        self._printer = open_printer(
            url, make_profile(name=profile) if profile else None, timeout_s=timeout_s
        )

    def print_ticket(
        self, ticket: Mapping[str, Any], category: Category, language: str
    ) -> PrintResult:
        """Build the slip from the server's ticket and send it."""
        slip = slip_from_ticket(
            ticket, self.office_name, category.names, language, category.waiting_area
        )
        return self._printer.print_slip(slip)

    def status(self) -> PrinterStatus:
        return self._printer.status()
