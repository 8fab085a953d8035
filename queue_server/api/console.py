"""What the clerk console needs beyond the queue API: its counter's day at a glance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from queue_server.adapters.sql_statistics import SqlStatistics
from queue_server.api.deps import ClerkDep, Container, ContainerDep
from queue_server.api.errors import ApiError
from queue_server.service.jsonable import jsonable
from queue_server.service.statistics import Statistics

router = APIRouter(prefix="/api/v1", tags=["counters"])


def statistics(c: Container) -> Statistics:
    return Statistics(SqlStatistics(c.stores.engine, c.stores.office_id), c.service.zone)


@router.get("/console/{counter_id}")
def console(c: ContainerDep, who: ClerkDep, counter_id: str) -> dict[str, Any]:
    """The ticket at this counter, its tickets on hold, today's no-shows (to take back when
    the visitor returns) and the calling clerk's own figures for today."""
    info = c.service.office_info()
    if counter_id not in {counter["id"] for counter in info["counters"]}:
        raise ApiError(404, "not_found", f"no counter {counter_id!r}")
    assert who.staff is not None
    day = info["business_date"]
    found = statistics(c).console(day, counter_id, who.staff.name)
    current = [c.service.ticket(i) for i in found["current_ids"]]
    held = [c.service.ticket(i) for i in found["held_ids"]]
    return {
        "counter_id": counter_id,
        "current": jsonable(current[0], c.service.zone) if current else None,
        "held": jsonable(held, c.service.zone),
        "no_shows": found["no_shows"],
        "mine": found["mine"],
        "clerk": who.staff.name,
    }
