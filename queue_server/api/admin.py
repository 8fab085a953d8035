"""Administration (role admin): staff, devices, the office file, statistics and CSV export.

Every change is written to the audit log with who did it and what, never a password, a token
or anything about a visitor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import Field

from queue_server.adapters.audit import audit_csv
from queue_server.adapters.office_file import parse_office, parse_office_text
from queue_server.adapters.office_toml import dumps
from queue_server.adapters.offices import load_office, office_source
from queue_server.adapters.sql_statistics import SqlStatistics
from queue_server.api.console import statistics
from queue_server.api.deps import AdminDep, Caller, ContainerDep
from queue_server.api.errors import ApiError
from queue_server.api.params import StrictBody
from queue_server.domain.office import Office
from queue_server.service.jsonable import jsonable
from queue_server.service.statistics import GROUPINGS, csv_text

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


NO_STORE = {"Cache-Control": "no-store"}
Name = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")]


class StaffRequest(StrictBody):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Literal["clerk", "admin"]
    password: str = Field(min_length=8, max_length=200)


class DeviceRequest(StrictBody):
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
    c.audit.record(who.name, "staff.added", detail=f"staff={added.name} role={added.role}")
    return {"staff": {"name": added.name, "role": added.role}}


@router.post("/devices", status_code=201)
def add_device(c: ContainerDep, who: AdminDep, body: DeviceRequest) -> dict[str, Any]:
    """Register a kiosk or board. Its token is in this answer only (stored hashed)."""
    device, token = c.accounts.add_device(body.name, body.kind)
    c.audit.record(who.name, "device.added", device=device.name, detail=f"kind={device.kind}")
    answer: dict[str, Any] = {"device": {"name": device.name, "kind": device.kind}, "token": token}
    if device.kind == "board":
        answer["board_path"] = "/board#token=" + token
    return answer


@router.get("/health")
def internals(c: ContainerDep, _: AdminDep) -> dict[str, Any]:
    """What the public health check leaves out: open realtime subscriptions, states computed."""
    return {
        "subscribers": c.hub.subscriber_count,
        "state_refreshes": c.hub.refreshes,
        "seq": c.hub.last_seq,
    }


@router.post("/staff/{name}/disable")
def disable_staff(c: ContainerDep, who: AdminDep, name: Name) -> dict[str, Any]:
    """Disable a staff account: its sessions end at once, open WebSockets close (1008)."""
    if who.staff is not None and who.staff.name == name:
        raise ApiError(409, "account_error", "an administrator cannot disable their own account")
    staff = c.accounts.set_user_active(name, False)
    c.revoked()
    c.audit.record(who.name, "staff.disabled", detail=f"staff={staff.name}")
    return {"staff": {"name": staff.name, "role": staff.role, "active": False}}


@router.post("/staff/{name}/enable")
def enable_staff(c: ContainerDep, who: AdminDep, name: Name) -> dict[str, Any]:
    """Enable a disabled staff account again (its user logs in anew)."""
    staff = c.accounts.set_user_active(name, True)
    c.audit.record(who.name, "staff.enabled", detail=f"staff={staff.name}")
    return {"staff": {"name": staff.name, "role": staff.role, "active": True}}


@router.post("/devices/{name}/revoke")
def revoke_device(c: ContainerDep, who: AdminDep, name: Name) -> dict[str, Any]:
    """Revoke a kiosk's or board's token: it stops working at once, open WebSockets close."""
    device = c.accounts.revoke_device(name)
    c.revoked()
    c.audit.record(who.name, "device.revoked", device=device.name)
    return {"device": {"name": device.name, "kind": device.kind, "revoked": True}}


@router.post("/devices/{name}/rotate")
def rotate_device(c: ContainerDep, who: AdminDep, name: Name) -> JSONResponse:
    """A new token for a device (also after a revocation); the old one stops working at once.
    The new token is in this answer only."""
    token = c.accounts.rotate_device_token(name)
    c.revoked()
    c.audit.record(who.name, "device.rotated", device=name)
    return JSONResponse({"device": {"name": name}, "token": token}, headers=NO_STORE)


@router.get("/office.toml", response_class=PlainTextResponse)
def office_file(c: ContainerDep, _: AdminDep) -> PlainTextResponse:
    """The office file as loaded now, to edit and upload again."""
    return PlainTextResponse(
        current_office_text(c),
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
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(422, "validation_error", "the office file is not UTF-8 text") from exc
    office = await apply_office_text(
        c,
        who,
        text,
        "office.uploaded",
        lambda o: f"categories={len(o.categories)} counters={len(o.counters)}",
    )
    return {"ok": True, "categories": len(office.categories), "counters": len(office.counters)}


def current_office_text(c: ContainerDep) -> str:
    """The office file as loaded now: the uploaded text, or one written from the config."""
    raw = SqlStatistics(c.stores.engine, c.stores.office_id).office_config()
    text = office_source(c.stores.engine, c.stores.office_id)
    if text is None or parse_office_text(text) != raw:  # loaded before the text was kept
        text = dumps(raw, header="Office file downloaded from the Madoguchi admin page.")
    return text


async def apply_office_text(
    c: ContainerDep, who: Caller, text: str, action: str, detail: Callable[[Office], str]
) -> Office:
    """The one way an office changes from the admin page: validate the whole file (422 with
    the field and the reason), keep the office id, load it (409 when live tickets use what it
    removes), tell every screen, and write the audit log."""
    raw = parse_office_text(text)
    office = parse_office(raw)
    if office.id != c.stores.office_id:
        raise ApiError(
            422,
            "validation_error",
            f"office id {office.id!r} differs from this server's {c.stores.office_id!r}",
        )
    await run_in_threadpool(load_office, c.stores.engine, raw, datetime.now(UTC), text)
    c.hub.changed()  # names, categories and counters shown everywhere come from the state
    c.audit.record(who.name, action, detail=detail(office))
    return office


def _dates(first: date | None, last: date | None, c: ContainerDep) -> tuple[date, date]:
    today = date.fromisoformat(str(c.service.office_info()["business_date"]))
    last = last or today
    first = first or last - timedelta(days=6)
    if first > last:
        raise ApiError(422, "validation_error", "'from' is after 'to'")
    if (last - first).days >= _MAX_DAYS:
        raise ApiError(422, "validation_error", f"at most {_MAX_DAYS} days at a time")
    return first, last


_STATS_CSV = {
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "description": "format=csv: the rows as CSV (UTF-8 with BOM)",
}


@router.get("/stats", responses={200: _STATS_CSV})
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


_AUDIT_CSV = {
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "description": "format=csv: the rows as CSV (UTF-8 with BOM)",
}


@router.get("/audit", responses={200: _AUDIT_CSV})
def audit_log(
    c: ContainerDep,
    _: AdminDep,
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
    action: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_.]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """The audit log, newest first, between two local dates (default: the last 7 days): who did
    what and when, with ticket and device ids; never a password, a token or visitor data.
    Clerks' ticket actions are in each ticket's transitions (with their actor)."""
    first, last = _dates(first, last, c)
    zone = c.service.zone
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), zone)
    rows = c.audit.entries(start, end, action, limit)
    if format == "csv":
        return Response(
            "\ufeff" + audit_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="audit-{first}-{last}.csv"',
                **NO_STORE,
            },
        )
    return JSONResponse(
        {"from": first.isoformat(), "to": last.isoformat(), "entries": jsonable(rows, zone)},
        headers=NO_STORE,
    )
