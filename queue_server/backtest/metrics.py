"""Accuracy of wait estimates against the waits that happened."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

#: Local hours counted as peak: the morning rush and the after-lunch rush.
PEAK_HOURS = ((9.0, 11.0), (13.0, 14.5))


@dataclass(frozen=True)
class Scored:
    """One prediction next to the wait that happened (minutes)."""

    actual: float
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Metrics:
    count: int
    mae: float
    rmse: float
    within5: float  # share with |error| <= 5 minutes
    coverage: float  # share inside [low, high]
    width: float  # mean high - low
    mean_wait: float

    def row(self) -> tuple[str, ...]:
        return (
            str(self.count),
            f"{self.mae:.2f}",
            f"{self.rmse:.2f}",
            f"{100 * self.within5:.1f}%",
            f"{100 * self.coverage:.1f}%",
            f"{self.width:.1f}",
        )


def score(items: Iterable[Scored]) -> Metrics:
    rows = list(items)
    n = len(rows)
    if n == 0:
        return Metrics(0, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan)
    errors = [r.estimate - r.actual for r in rows]
    return Metrics(
        count=n,
        mae=sum(abs(e) for e in errors) / n,
        rmse=math.sqrt(sum(e * e for e in errors) / n),
        within5=sum(abs(e) <= 5.0 for e in errors) / n,
        coverage=sum(r.low <= r.actual <= r.high for r in rows) / n,
        width=sum(r.high - r.low for r in rows) / n,
        mean_wait=sum(r.actual for r in rows) / n,
    )


def is_peak(moment: datetime, zone: ZoneInfo) -> bool:
    local = moment.astimezone(zone)
    hour = local.hour + local.minute / 60.0
    return any(start <= hour < end for start, end in PEAK_HOURS)


def summary_lines(metrics: Metrics) -> list[str]:
    """Plain lines the replay command prints."""
    return [
        f"tickets scored:        {metrics.count} (mean wait {metrics.mean_wait:.1f} min)",
        f"MAE:                   {metrics.mae:.2f} min",
        f"RMSE:                  {metrics.rmse:.2f} min",
        f"within ±5 min:         {100 * metrics.within5:.1f}%",
        f"80% interval coverage: {100 * metrics.coverage:.1f}%"
        f" (mean width {metrics.width:.1f} min)",
    ]
