"""The server's own slip printing (a clerk's reprint), through the printer package."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from queue_server.domain.office import Office, PrinterConfig


class EscposSlipPrinter:
    """Prints on the office's configured printers; relative `virtual://` and `file://` paths
    are under the server's data directory."""

    def __init__(self, data_dir: Path, timeout_s: float = 3.0) -> None:
        self._data_dir = data_dir
        self._timeout_s = timeout_s

    def _url(self, url: str) -> str:
        scheme, _, rest = url.partition("://")
        if scheme in ("virtual", "file") and rest and not rest.startswith("/"):
            return f"{scheme}://{self._data_dir / rest}"
        return url

    def print_ticket(
        self, printer: PrinterConfig, office: Office, ticket: Mapping[str, Any]
    ) -> dict[str, Any]:
        from printer.errors import PrinterError
        from printer.layout import make_profile
        from printer.slip import slip_from_ticket
        from printer.transports import open_printer

        category = office.category(str(ticket["category_id"]))
        try:
            slip = slip_from_ticket(
                ticket,
                office_name=office.names["ja"],
                category_names=category.names,
                language=str(ticket.get("language", "ja")),
                waiting_area=dict(category.waiting_area) or None,
            )
            profile = make_profile(name=printer.profile) if printer.profile else None
            device = open_printer(self._url(printer.url), profile, timeout_s=self._timeout_s)
            return device.print_slip(slip).as_dict()
        except PrinterError as exc:
            return {"outcome": "failed", "reason": "configuration", "code": exc.code}
