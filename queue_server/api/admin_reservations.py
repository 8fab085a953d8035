"""Administration of visit reservations (role admin): each procedure's booking rule and the
office's closed dates and special openings, changed through the same path as an uploaded office
file (whole-file validation, 409 for what live tickets use, audit log); and bookings per slot
for a range of days, as JSON or CSV. Staff never see contact data here. A change names the
version of the office file it was made on, so two admins do not overwrite each other (409)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.adapters.office_file import parse_office_text
from queue_server.adapters.office_toml import with_calendar, with_reservation_rule
from queue_server.api.admin import NO_STORE, _dates, apply_office_text, current_office_text
from queue_server.api.deps import AdminDep, ContainerDep
from queue_server.api.errors import ApiError
from queue_server.service.jsonable import jsonable
from queue_server.service.statistics import csv_text

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def _version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _current(c: ContainerDep, version: str | None) -> str:
    """The office file to change; 409 when it is not the one the admin was shown."""
    text = current_office_text(c)
    if version is not None and version != _version(text):
        raise ApiError(
            409,
            "office_changed",
            "the office was changed meanwhile; reload and make the change again",
            "ほかの操作で設定が変わりました。再読み込みしてからもう一度変更してください。",
        )
    return text


CategoryId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
BOOKING_COLUMNS = (
    "date",
    "category_id",
    "slot_start",
    "slot_end",
    "capacity",
    "booked",
    "checked_in",
    "no_show",
    "cancelled",
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReservationSection(_Body):
    """`[categories.reservation]` of the office file; the office parser checks the values."""

    slot_minutes: int = 30
    per_slot: int | None = None
    counter_share: float | None = None
    hours: list[str] = Field(default_factory=list, max_length=12)
    days_ahead: int = 30
    lead_minutes: int = 60
    on_special_openings: bool = True
    early_minutes: int = 30
    grace_minutes: int = 15


class _Versioned(_Body):
    version: str | None = Field(
        default=None, max_length=64, description="from the GET: 409 when the office changed since"
    )


class RuleRequest(_Versioned):
    reservable: bool
    reservation: ReservationSection | None = None


class CalendarRequest(_Versioned):
    closed_dates: dict[date, str] = Field(default_factory=dict, max_length=400)
    special_openings: dict[date, str] = Field(default_factory=dict, max_length=400)


@router.get("/reservation-rules")
def reservation_rules(c: ContainerDep, _: AdminDep) -> JSONResponse:
    """Each procedure's booking rule as the office file has it, and the office's closed dates
    and special openings (休日開庁)."""
    text = current_office_text(c)
    raw = parse_office_text(text)
    office = raw.get("office", {})
    categories = [
        {
            "id": category["id"],
            "names": category.get("names", {}),
            "reservable": bool(category.get("reservable", False)),
            "reservation": category.get("reservation"),
        }
        for category in raw.get("categories", [])
    ]
    body = {
        "version": _version(text),
        "categories": categories,
        "closed_dates": office.get("closed_dates", {}),
        "special_openings": office.get("special_openings", {}),
    }
    return JSONResponse(jsonable(body, c.service.zone), headers=NO_STORE)


@router.put("/reservation-rules/{category_id}")
async def change_rule(
    c: ContainerDep, who: AdminDep, category_id: CategoryId, body: RuleRequest
) -> dict[str, Any]:
    """Change one procedure's booking rule; existing bookings stay."""
    section = body.reservation.model_dump() if body.reservation is not None else None
    try:
        text = with_reservation_rule(
            _current(c, body.version), category_id, body.reservable, section
        )
    except KeyError:
        raise ApiError(404, "not_found", f"no procedure {category_id!r}") from None
    await apply_office_text(
        c,
        who,
        text,
        "office.reservation_changed",
        lambda _: f"category={category_id} reservable={str(body.reservable).lower()}",
    )
    return {"ok": True, "category_id": category_id}


@router.put("/calendar")
async def change_calendar(c: ContainerDep, who: AdminDep, body: CalendarRequest) -> dict[str, Any]:
    """Replace the office's closed dates and special openings (休日開庁: "09:00-12:00")."""
    closed = {d.isoformat(): reason for d, reason in body.closed_dates.items()}
    special = {d.isoformat(): hours for d, hours in body.special_openings.items()}
    text = with_calendar(_current(c, body.version), closed, special)
    await apply_office_text(
        c,
        who,
        text,
        "office.calendar_changed",
        lambda _: f"closed_dates={len(closed)} special_openings={len(special)}",
    )
    return {"ok": True}


@router.get(
    "/reservations",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def bookings(
    c: ContainerDep,
    _: AdminDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """Bookings per slot and procedure between two local dates (default: 14 days from today):
    capacity, taken, checked in, no-show, cancelled. Counts only."""
    if first is None:
        first = date.fromisoformat(str(c.service.office_info()["business_date"]))
    first, last = _dates(first, last or first + timedelta(days=13), c)
    rows = jsonable(c.service.bookings_by_slot(first, last), c.service.zone)
    if format == "csv":
        return Response(
            "\ufeff" + csv_text(rows, BOOKING_COLUMNS),  # BOM: Excel opens it as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="reservations-{first}-{last}.csv"',
                **NO_STORE,
            },
        )
    return JSONResponse(
        {"from": first.isoformat(), "to": last.isoformat(), "rows": rows}, headers=NO_STORE
    )
