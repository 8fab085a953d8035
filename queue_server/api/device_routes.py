"""Printing and devices: the kiosk's print outcome, reprints, the printers, and the health
kiosks and boards report. Included before the ticket actions (`/tickets/{id}/{action}`)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from queue_server.api.deps import CallerDep, ClerkDep, ContainerDep, IssuerDep
from queue_server.api.errors import ApiError
from queue_server.api.params import StrictBody, TicketId
from queue_server.service.jsonable import jsonable

router = APIRouter(prefix="/api/v1")


class PrintOutcomeRequest(StrictBody):
    outcome: Literal["printed", "failed"]
    reason: str | None = Field(default=None, max_length=40, pattern=r"^[a-z_]+$")
    printer_status: dict[str, Any] | None = None


class HealthRequest(StrictBody):
    printer: dict[str, str | bool | None] | None = None


class ReprintRequest(StrictBody):
    printer_id: str = Field(min_length=1, max_length=40)


@router.post("/tickets/{ticket_id}/print-outcome", tags=["printing"])
def print_outcome(
    c: ContainerDep, who: IssuerDep, ticket_id: TicketId, body: PrintOutcomeRequest
) -> dict[str, Any]:
    """The kiosk reports whether the slip came out. On failure the answer carries what the kiosk
    shows instead (number and QR target), and staff get a `ticket.print_failed` alert."""
    view = c.service.record_print(
        ticket_id, body.outcome, body.reason, who.name, own_only=who.device is not None
    )
    if body.printer_status is not None and who.device is not None:
        c.service.report_health(who.device.name, {"printer": body.printer_status})
    answer: dict[str, Any] = {"ticket": view.as_json(c.service.zone)}
    if body.outcome == "failed":
        answer["fallback"] = {
            "number": view.number,
            "status_url": view.status_url,
            "message_ja": "番号札を印刷できませんでした。この画面の番号をお控えいただくか、"
            "QRコードを読み取ってください。",
            "message_en": "The slip could not be printed. Please note the number on the screen"
            " or scan the QR code.",
        }
    return answer


@router.post("/tickets/{ticket_id}/reprint", tags=["printing"])
def reprint(
    c: ContainerDep, who: ClerkDep, ticket_id: TicketId, body: ReprintRequest
) -> dict[str, Any]:
    """Print the ticket's slip again on one of the office's printers (now, or not at all)."""
    result: dict[str, Any] = jsonable(
        c.service.reprint(ticket_id, body.printer_id, who.name), c.service.zone
    )
    return result


@router.get("/printers", tags=["printing"])
def printers(c: ContainerDep, _: ClerkDep) -> dict[str, Any]:
    """Printers the server can print on."""
    return {"printers": c.service.printers()}


@router.post("/devices/me/health", tags=["devices"])
def device_health(c: ContainerDep, who: CallerDep, body: HealthRequest) -> dict[str, Any]:
    """A kiosk or board reports its health (e.g. its printer: online, paper, cover)."""
    if who.device is None:
        raise ApiError(403, "forbidden", "only devices report their health")
    changed = c.service.report_health(who.device.name, body.model_dump(exclude_none=True))
    return {"device": who.device.name, "changed": changed}


@router.get("/devices", tags=["devices"])
def devices(c: ContainerDep, _: ClerkDep) -> dict[str, Any]:
    """Kiosks and boards with their last health report: printer alerts for staff."""
    return {"devices": jsonable(c.service.devices(), c.service.zone)}
