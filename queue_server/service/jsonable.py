"""Turn service results into JSON-ready values, with times in the office's zone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo


def jsonable(value: Any, zone: ZoneInfo) -> Any:
    """Recursively convert dataclasses, datetimes (to `zone`, ISO 8601) and dates."""
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value), zone)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v, zone) for v in value]
    return value
