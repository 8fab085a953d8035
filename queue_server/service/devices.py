"""Devices and printing: whether slips came out, reprints, device health, and the personal
data kept with a ticket for the clerk (until day close)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from queue_server.domain.errors import DomainError, IllegalTransition
from queue_server.domain.office import Office
from queue_server.domain.ticket import Ticket
from queue_server.service.core import InvalidRequest
from queue_server.service.ports import QueueStore, SlipPrinter
from queue_server.service.reads import Reads
from queue_server.service.views import TicketView

PRINT_OUTCOMES = ("printed", "failed")


class NotYourTicket(DomainError):
    code = "not_your_ticket"
    status = 403
    message_ja = "この端末が発行した整理券ではありません。"


class Devices(Reads):
    """Slips, printers, device health and attachments."""

    # Set by `QueueService`.
    _slip_printer: SlipPrinter | None

    def record_print(
        self,
        ticket_id: int,
        outcome: str,
        reason: str | None,
        device: str | None,
        own_only: bool = False,
    ) -> TicketView:
        """Keep whether a ticket's slip came out; a failure is published as an alert.

        `own_only`: the reporter (a kiosk) may report only on tickets it issued itself."""
        if outcome not in PRINT_OUTCOMES:
            raise InvalidRequest(f"outcome must be one of {', '.join(PRINT_OUTCOMES)}")

        def work(store: QueueStore, office: Office, now: datetime) -> Ticket:
            ticket = self._ticket(store, ticket_id)
            if own_only and store.issued_by(ticket_id) != device:
                raise NotYourTicket(f"ticket {ticket.display_number} was issued elsewhere")
            ticket.print_outcome, ticket.print_reason = outcome, reason
            store.set_print_outcome(ticket, outcome, reason, now)
            kind = "ticket.printed" if outcome == "printed" else "ticket.print_failed"
            self._emit(
                store, office, now, kind, ticket=ticket, detail={"device": device, "reason": reason}
            )
            return ticket

        return self._view_after(self._write(work))

    def report_health(self, device: str, health: Mapping[str, Any]) -> bool:
        """Store a device's health report; publish it when it changed. True when it changed."""

        def work(store: QueueStore, office: Office, now: datetime) -> bool:
            changed = store.device_health(device) != dict(health)
            store.set_device_health(device, health, now)
            if changed:
                self._emit(
                    store,
                    office,
                    now,
                    "device.health",
                    detail={"device": device, "health": dict(health)},
                )
            return changed

        return self._write(work)

    def devices(self) -> list[dict[str, Any]]:
        """Kiosks and boards with their last health report (printer alerts for staff)."""
        return self._read(lambda store, office, now: store.devices())

    def printers(self) -> list[dict[str, Any]]:
        """The printers the server can print on (for reprints)."""
        return self._read(
            lambda store, office, now: [{"id": p.id, "name": p.name} for p in office.printers]
        )

    def reprint(self, ticket_id: int, printer_id: str, actor: str | None = None) -> dict[str, Any]:
        """Print a ticket's slip again on one of the office's printers, now or not at all."""
        if self._slip_printer is None:
            raise InvalidRequest("this server has no printing configured")
        view = self.ticket(ticket_id)
        office = self._cached_office()
        printer = office.printer(printer_id)
        result = self._slip_printer.print_ticket(printer, office, view.as_json(office.zone))
        outcome = str(result.get("outcome", "failed"))
        reason = result.get("reason")
        updated = self.record_print(
            ticket_id, outcome, None if reason is None else str(reason), actor
        )
        self._write(
            lambda store, office, now: store.audit(
                actor or "unknown", "ticket.reprinted", ticket_id, now, f"printer={printer.id}"
            )
        )
        return {
            "ticket": updated,
            "print": result,
            "printer": {"id": printer.id, "name": printer.name},
        }

    def attach(self, ticket_id: int, kind: str, data: Mapping[str, Any]) -> None:
        """Keep personal data for the clerk with a ticket, until day close."""

        def work(store: QueueStore, office: Office, now: datetime) -> None:
            ticket = self._ticket(store, ticket_id)
            if not ticket.is_open:
                raise IllegalTransition(f"ticket {ticket.display_number} is closed")
            store.attach(ticket, kind, data, now)

        self._write(work)

    def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        return self._read(
            lambda store, office, now: store.attachments(self._ticket(store, ticket_id))
        )
