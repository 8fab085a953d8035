"""Administration (role admin): staff, devices, the office file, statistics and CSV export.

Every change is written to the audit log with who did it and what, never a password, a token
or anything about a visitor.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from queue_server.adapters.office_file import parse_office
from queue_server.adapters.office_toml import dumps
from queue_server.adapters.offices import load_office
from queue_server.adapters.sql_statistics import SqlStatistics
from queue_server.api.console import statistics
from queue_server.api.deps import AdminDep, ContainerDep
from queue_server.api.errors import ApiError
from queue_server.service.jsonable import jsonable
from queue_server.service.statistics import GROUPINGS, csv_text

audit = logging.getLogger("madoguchi.audit")
router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
_MAX_OFFICE_FILE = 256 * 1024
_MAX_DAYS = 366
STAT_COLUMNS = (
    "issued",
    "called",
    "served",
    "no_shows",
    "wait_mean_minutes",
    "wait_median_minutes",
    "wait_max_minutes",
    "service_mean_minutes",
    "service_median_minutes",
    "idle_minutes",
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaffRequest(_Body):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["clerk", "admin"]
    password: str = Field(min_length=8, max_length=200)


class DeviceRequest(_Body):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: Literal["kiosk", "board"]


@router.get("/staff")
def staff(c: ContainerDep, _: AdminDep) -> dict[str, Any]:
    """Staff accounts (names and roles; never password hashes)."""
    rows = SqlStatistics(c.stores.engine, c.stores.office_id).staff()
    return {"staff": jsonable(rows, c.service.zone)}


@router.post("/staff", status_code=201)
def add_staff(c: ContainerDep, who: AdminDep, body: StaffRequest) -> dict[str, Any]:
    """Add a clerk or administrator."""
    added = c.accounts.add_user(body.name, body.role, body.password)
    audit.info("audit: %s added staff id=%s role=%s", who.name, added.id, added.role)
    return {"staff": {"name": added.name, "role": added.role}}


@router.post("/devices", status_code=201)
def add_device(c: ContainerDep, who: AdminDep, body: DeviceRequest) -> dict[str, Any]:
    """Register a kiosk or board. Its token is in this answer only (stored hashed)."""
    device, token = c.accounts.add_device(body.name, body.kind)
    audit.info("audit: %s added device %s kind=%s", who.name, device.name, device.kind)
    answer: dict[str, Any] = {"device": {"name": device.name, "kind": device.kind}, "token": token}
    if device.kind == "board":
        answer["board_path"] = "/board#token=" + token
    return answer


@router.get("/office.toml", response_class=PlainTextResponse)
def office_file(c: ContainerDep, _: AdminDep) -> PlainTextResponse:
    """The office file as loaded now, to edit and upload again."""
    raw = SqlStatistics(c.stores.engine, c.stores.office_id).office_config()
    text = dumps(raw, header="Office file downloaded from the Madoguchi admin page.")
    return PlainTextResponse(
        text,
        media_type="application/toml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{c.stores.office_id}.toml"'},
    )


@router.put("/office")
async def upload_office(request: Request, c: ContainerDep, who: AdminDep) -> dict[str, Any]:
    """Validate and load a new office file (TOML in the body). A file with a mistake is refused
    as a whole with the field and the reason; the office id cannot change here."""
    body = await request.body()
    if len(body) > _MAX_OFFICE_FILE:
        raise ApiError(413, "too_large", "the office file is larger than 256 KB")
    try:
        raw = tomllib.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ApiError(422, "validation_error", f"not a TOML file: {exc}") from exc
    office = parse_office(raw)
    if office.id != c.stores.office_id:
        raise ApiError(
            422,
            "validation_error",
            f"office id {office.id!r} differs from this server's {c.stores.office_id!r}",
        )
    await run_in_threadpool(load_office, c.stores.engine, raw, datetime.now(UTC))
    c.hub.changed()  # names, categories and counters shown everywhere come from the state
    audit.info(
        "audit: %s loaded the office file (%d categories, %d counters)",
        who.name,
        len(office.categories),
        len(office.counters),
    )
    return {"ok": True, "categories": len(office.categories), "counters": len(office.counters)}


def _dates(first: date | None, last: date | None, c: ContainerDep) -> tuple[date, date]:
    today = date.fromisoformat(str(c.service.office_info()["business_date"]))
    last = last or today
    first = first or last - timedelta(days=6)
    if first > last:
        raise ApiError(422, "validation_error", "'from' is after 'to'")
    if (last - first).days >= _MAX_DAYS:
        raise ApiError(422, "validation_error", f"at most {_MAX_DAYS} days at a time")
    return first, last


@router.get("/stats")
def stats(
    c: ContainerDep,
    _: AdminDep,
    by: Annotated[Literal["day", "hour", "category", "counter", "clerk"], Query()] = "day",
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """Issued, waits, service times, no-shows and idle time grouped by day, hour (local),
    procedure, counter or clerk, between two local dates (default: the last 7 days)."""
    assert by in GROUPINGS
    first, last = _dates(first, last, c)
    rows = statistics(c).report(first, last, by)
    if format == "csv":
        return Response(
            "\ufeff" + csv_text(rows, (by, *STAT_COLUMNS)),  # BOM: Excel opens it as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="stats-{by}-{first}-{last}.csv"'
            },
        )
    return JSONResponse({"from": first.isoformat(), "to": last.isoformat(), "by": by, "rows": rows})
