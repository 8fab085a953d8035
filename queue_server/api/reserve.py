"""Visit reservations over HTTP: offers and booking for residents (no account: the code is the
key), the day's list for clerks, bookings per day for admins, slot occupancy as open data."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from queue_server.api import pages
from queue_server.api.admin import _dates as admin_dates
from queue_server.api.console import statistics
from queue_server.api.deps import AdminDep, ClerkDep, ContainerDep
from queue_server.api.notify import channels
from queue_server.api.opendata import LICENCE
from queue_server.domain.office import LANGUAGES
from queue_server.service.jsonable import jsonable
from queue_server.service.statistics import VISITS

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReminderChoice(_Body):
    channel: str = Field(examples=["email", "line", "webpush"])
    address: str = Field(
        min_length=3,
        max_length=2000,
        description="e-mail, LINE user id, or the browser's push subscription as JSON",
    )


class BookingRequest(_Body):
    category_id: str = Field(min_length=1, max_length=40, examples=["mynumber"])
    start: datetime = Field(description="the slot's start, as offered (ISO 8601 with offset)")
    language: str = Field(default="ja", examples=list(LANGUAGES))
    email: str | None = Field(
        default=None, max_length=254, description="the older form of an e-mail `reminder`"
    )
    reminder: ReminderChoice | None = Field(
        default=None, description="a reminder the day before; its address is deleted once sent"
    )


class CodeBody(_Body):
    code: str = Field(
        min_length=1, max_length=1000, description="the QR text or the short code (K7MQ-4RXA)"
    )


class ChangeRequest(CodeBody):
    start: datetime


def _json(c: ContainerDep, value: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(value, c.service.zone), status_code, headers=NO_STORE)


def _local(c: ContainerDep, moment: datetime) -> datetime:
    """A slot start without an offset is the office's local time."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=c.service.zone)


def _with_qr(answer: dict[str, Any]) -> dict[str, Any]:
    from queue_server.api.request_routes import qr_svg

    if "code" in answer:
        answer = {**answer, "qr_svg": qr_svg(str(answer["code"]))}
    return answer


# -- residents ---------------------------------------------------------------------------------


@router.get("/api/v1/reserve/procedures", tags=["reservations"])
def reservable_procedures(c: ContainerDep) -> JSONResponse:
    """The procedures residents can book, with slot length, horizon and check-in window."""
    return _json(c, {"procedures": c.service.reservable_procedures()})


@router.get("/api/v1/reserve/procedures/{category_id}/days", tags=["reservations"])
def reservation_days(c: ContainerDep, category_id: str) -> JSONResponse:
    """Dates with slots open for booking (office calendar: holidays, 年末年始, 休日開庁)."""
    return _json(c, {"category_id": category_id, "days": c.service.reservation_days(category_id)})


@router.get("/api/v1/reserve/procedures/{category_id}/slots", tags=["reservations"])
def reservation_slots(
    c: ContainerDep, category_id: str, day: Annotated[date, Query(alias="date")]
) -> JSONResponse:
    """One day's slots with the places left."""
    slots = c.service.reservation_slots(category_id, day)
    return _json(c, {"category_id": category_id, "date": day, "slots": slots})


@router.post("/api/v1/reservations", status_code=201, tags=["reservations"])
def book(c: ContainerDep, request: Request, body: BookingRequest) -> JSONResponse:
    """Book a place: 409 `slot_full`, 422 `slot_unavailable` or `not_reservable`, or
    `invalid_request` (a reminder channel not offered, a bad address). The answer holds the QR
    text (`code`, also as `qr_svg`) and the `short_code`, shown only now."""
    reminder = (body.reminder.channel, body.reminder.address) if body.reminder else None
    answer = c.service.book(
        body.category_id,
        _local(c, body.start),
        body.language,
        body.email,
        reminder=reminder,
        available=channels(request),
    )
    return _json(c, {"reservation": _with_qr(answer)}, 201)


@router.post("/api/v1/reservations/lookup", tags=["reservations"])
def lookup(c: ContainerDep, body: CodeBody) -> JSONResponse:
    """The booking a QR text or short code stands for (404 `reservation_not_found`)."""
    return _json(c, {"reservation": _with_qr(c.service.find_reservation(body.code))})


@router.post("/api/v1/reservations/cancel", tags=["reservations"])
def cancel(c: ContainerDep, body: CodeBody) -> JSONResponse:
    """Cancel before the slot; the place is free again at once (e-mail deleted)."""
    return _json(c, {"reservation": c.service.cancel_reservation(body.code)})


@router.post("/api/v1/reservations/change", tags=["reservations"])
def change(c: ContainerDep, body: ChangeRequest) -> JSONResponse:
    """Move to another slot of the same procedure; the short code stays, the QR is new."""
    answer = c.service.change_reservation(body.code, _local(c, body.start))
    return _json(c, {"reservation": _with_qr(answer)})


# -- staff -------------------------------------------------------------------------------------


@router.get("/api/v1/reservations", tags=["reservations"])
def day_list(
    c: ContainerDep, _: ClerkDep, day: Annotated[date | None, Query(alias="date")] = None
) -> JSONResponse:
    """The day's reservations for the console: slot, procedure, state, ticket (no contact)."""
    return _json(c, c.service.reservations_on(day))


@router.get("/api/v1/reservations/summary", tags=["reservations"])
def summary(
    c: ContainerDep,
    _: AdminDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    days: Annotated[int, Query(ge=1, le=92)] = 14,
) -> JSONResponse:
    """Capacity and bookings per day and procedure (checked in, cancelled, no-show)."""
    return _json(c, c.service.reservation_summary(first, days))


@router.get("/api/v1/reservations/stats", tags=["reservations"])
def visit_stats(
    c: ContainerDep,
    _: AdminDep,
    by: Annotated[Literal["day", "hour", "category", "counter", "clerk"], Query()] = "day",
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> JSONResponse:
    """The admin statistics (`/api/v1/admin/stats`) for walk-ins and reservations apart."""
    first, last = admin_dates(first, last, c)
    report = statistics(c)
    return JSONResponse(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "by": by,
            **{visit: report.report(first, last, by, visit) for visit in VISITS},
        }
    )


# -- open data ---------------------------------------------------------------------------------


@router.get("/opendata/reservations.json", tags=["open data"])
def occupancy(
    c: ContainerDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    days: Annotated[int, Query(ge=1, le=92)] = 14,
) -> JSONResponse:
    """Reservation slots: capacity and places taken, per procedure (no personal data)."""
    data = jsonable(c.service.slot_occupancy(first, days), c.service.zone)
    document = {**data, "licence": LICENCE, "schema": "/opendata/schema.json"}
    headers = {"Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}
    return JSONResponse(document, headers=headers)


# -- the phone page ----------------------------------------------------------------------------


@router.get("/reserve", response_class=HTMLResponse, include_in_schema=False)
def reserve_page() -> HTMLResponse:
    """来庁予約: book, change or cancel a visit (the same headers as the other pages)."""
    return pages._page("reserve.html")
