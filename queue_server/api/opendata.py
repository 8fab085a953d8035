"""Open data (CC BY 4.0): hourly figures per procedure as CSV and JSON under stable URLs, and
the typical congestion residents use to pick a quiet time. Counts and durations only: no
ticket numbers, ids or times of single visits (city policy 3-(5))."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from queue_server.api.console import statistics
from queue_server.api.deps import ContainerDep
from queue_server.api.errors import ApiError
from queue_server.api.pages import _page
from queue_server.service.statistics import csv_text

router = APIRouter()
LICENCE = {
    "name": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}
COLUMNS = (
    "date",
    "hour",
    "category_id",
    "category_name_ja",
    "category_name_en",
    "issued",
    "waiting_at_hour_end",
    "wait_mean_minutes",
    "wait_median_minutes",
)
SCHEMA: dict[str, Any] = {
    "title": "Madoguchi hourly counter statistics",
    "licence": LICENCE,
    "fields": [
        {"name": "date", "type": "date", "description": "local business date (Asia/Tokyo)"},
        {"name": "hour", "type": "integer", "description": "local hour 0-23 (09 = 09:00-09:59)"},
        {"name": "category_id", "type": "string", "description": "procedure id"},
        {"name": "category_name_ja", "type": "string", "description": "procedure (Japanese)"},
        {"name": "category_name_en", "type": "string", "description": "procedure (English)"},
        {"name": "issued", "type": "integer", "description": "tickets issued in the hour"},
        {
            "name": "waiting_at_hour_end",
            "type": "integer",
            "description": "people waiting to be called at the end of the hour",
        },
        {
            "name": "wait_mean_minutes",
            "type": "number",
            "description": "mean minutes from joining the queue in this hour to being called; "
            "empty when nobody joined",
        },
        {"name": "wait_median_minutes", "type": "number", "description": "median of the same"},
    ],
    # The other data set: /opendata/reservations.json, slot occupancy of visit reservations.
    "reservations": {
        "title": "Madoguchi visit reservation slots (occupancy)",
        "url": "/opendata/reservations.json",
        "licence": LICENCE,
        "document": [
            {"name": "from", "type": "date", "description": "first local date (Asia/Tokyo)"},
            {"name": "days", "type": "integer", "description": "number of days (1-92)"},
            {"name": "slots", "type": "array", "description": "one object per slot, fields below"},
        ],
        "fields": [
            {"name": "category_id", "type": "string", "description": "procedure id"},
            {
                "name": "start",
                "type": "datetime",
                "description": "slot start, ISO 8601 with the offset (+09:00)",
            },
            {"name": "end", "type": "datetime", "description": "slot end, the same"},
            {
                "name": "capacity",
                "type": "integer",
                "description": "places the slot takes (the office's share of counter time)",
            },
            {
                "name": "booked",
                "type": "integer",
                "description": "places taken (booked or checked in); nothing about who",
            },
        ],
    },
}
_MAX_DAYS = 92


def _window(c: ContainerDep, first: date | None, last: date | None) -> tuple[date, date]:
    today = date.fromisoformat(str(c.service.office_info()["business_date"]))
    last = last or today
    first = first or last - timedelta(days=6)
    if first > last or (last - first).days >= _MAX_DAYS:
        raise ApiError(422, "validation_error", f"give from <= to, at most {_MAX_DAYS} days")
    return first, last


def _rows(c: ContainerDep, first: date, last: date) -> list[dict[str, Any]]:
    names = {cat["id"]: cat["names"] for cat in c.service.office_info()["categories"]}
    rows = statistics(c).hourly(first, last, datetime.now(UTC))
    for row in rows:
        found = names.get(row["category_id"], {})
        row["category_name_ja"] = found.get("ja")
        row["category_name_en"] = found.get("en")
    return [{k: row.get(k) for k in COLUMNS} for row in rows]


FromQuery = Annotated[date | None, Query(alias="from", description="first local date")]
ToQuery = Annotated[date | None, Query(alias="to", description="last local date (default today)")]


@router.get("/opendata/", response_class=HTMLResponse, include_in_schema=False)
def opendata_page() -> HTMLResponse:
    return _page("opendata.html")


@router.get(
    "/opendata/hourly.csv",
    tags=["open data"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def hourly_csv(c: ContainerDep, first: FromQuery = None, last: ToQuery = None) -> Response:
    """Hourly statistics per procedure as CSV (UTF-8, header line); default the last 7 days."""
    first, last = _window(c, first, last)
    return Response(
        csv_text(_rows(c, first, last), COLUMNS),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="madoguchi-hourly-{first}-{last}.csv"',
            "Access-Control-Allow-Origin": "*",
        },
    )


@router.get("/opendata/hourly.json", tags=["open data"])
def hourly_json(c: ContainerDep, first: FromQuery = None, last: ToQuery = None) -> JSONResponse:
    """The same as JSON, with the licence and the schema."""
    return JSONResponse(
        hourly_document(c, first, last), headers={"Access-Control-Allow-Origin": "*"}
    )


def hourly_document(
    c: ContainerDep, first: date | None = None, last: date | None = None
) -> dict[str, Any]:
    """The hourly open data of a window (default the last 7 days), with licence and schema."""
    first, last = _window(c, first, last)
    return {
        "office_id": c.stores.office_id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "licence": LICENCE,
        "schema": "/opendata/schema.json",
        "rows": _rows(c, first, last),
    }


@router.get("/opendata/schema.json", tags=["open data"])
def schema() -> dict[str, Any]:
    """Field names, types and meanings of the hourly data and of the reservation slots."""
    return SCHEMA


@router.get("/api/v1/congestion/typical", tags=["public"])
def typical(c: ContainerDep) -> dict[str, Any]:
    """Mean tickets issued per weekday (0 = Monday) and local hour over the last 8 weeks."""
    today = date.fromisoformat(str(c.service.office_info()["business_date"]))
    return statistics(c).typical(today)
