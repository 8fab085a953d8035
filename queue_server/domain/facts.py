"""The raw facts the wait estimator learns from, and the spans they are read over.

The live server (from SQL, `queue_server.adapters.sql_history.read_facts`) and the backtest (from
a ticket log, `queue_server.backtest.events.log_facts`) collect the same `Facts` over a span —
finished services, queue entries and stays, calls and no-shows, abandonments, counter pauses —
and hand them to `learning.learn_history` (earlier days) and `snapshot.build_snapshot` (today),
so both run exactly the same learning and the same estimator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

#: Calendar days of history the estimator learns from (four weeks: every weekday four times).
HISTORY_DAYS = 28


@dataclass(frozen=True)
class ServiceSample:
    """One finished counter segment (call to finish or transfer)."""

    category_id: str
    minutes: float
    at: datetime  # when it ended
    counter_id: str | None = None


@dataclass(frozen=True)
class Arrival:
    """A ticket entering a category's queue (issue, transfer in)."""

    category_id: str
    priority_rank: int
    at: datetime


@dataclass(frozen=True)
class Wait:
    """A queue stay that ended in a call: minutes from entering the queue to the call."""

    category_id: str
    minutes: float
    at: datetime  # the call


@dataclass(frozen=True)
class Abandonment:
    """A ticket that left the queue without being called (cancelled, or closed out at day end)."""

    category_id: str
    minutes: float  # how long it had waited
    at: datetime


@dataclass(frozen=True)
class Pause:
    """A counter paused or closed, then open again the same day."""

    counter_id: str
    at: datetime  # when it stopped
    minutes: float


def _sample_key(s: ServiceSample) -> tuple[datetime, str, str, float]:
    return (s.at, s.category_id, s.counter_id or "", s.minutes)


@dataclass(frozen=True)
class Facts:
    """The raw facts of a time span that everything the estimator knows is learnt from.

    Collections are kept in a canonical order, so facts read from the database and facts built
    from a ticket log compare equal when they describe the same events.
    """

    services: tuple[ServiceSample, ...] = ()
    arrivals: tuple[Arrival, ...] = ()
    waits: tuple[Wait, ...] = ()
    abandonments: tuple[Abandonment, ...] = ()
    calls: Mapping[str, int] = field(default_factory=dict)  # resolved calls, incl. no-shows
    no_shows: Mapping[str, int] = field(default_factory=dict)
    no_show_minutes: float = 0.0  # counter minutes lost to no-shows: no-show time - call time
    pauses: tuple[Pause, ...] = ()
    days: int = 0  # open days: local dates with at least one queue entry

    def __post_init__(self) -> None:
        # Frozen, so the canonical order is set through object.__setattr__.
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("services", tuple(sorted(self.services, key=_sample_key)))
        put(
            "arrivals",
            tuple(sorted(self.arrivals, key=lambda a: (a.at, a.category_id, a.priority_rank))),
        )
        put("waits", tuple(sorted(self.waits, key=lambda w: (w.at, w.category_id, w.minutes))))
        put(
            "abandonments",
            tuple(sorted(self.abandonments, key=lambda w: (w.at, w.category_id, w.minutes))),
        )
        put("pauses", tuple(sorted(self.pauses, key=lambda p: (p.at, p.counter_id, p.minutes))))
        put("calls", {k: v for k, v in sorted(self.calls.items()) if v})
        put("no_shows", {k: v for k, v in sorted(self.no_shows.items()) if v})


def open_days(arrivals: Iterable[Arrival], zone: ZoneInfo) -> int:
    """Local dates with at least one queue entry: the `days` of `Facts`."""
    return len({a.at.astimezone(zone).date() for a in arrivals})


def day_start_of(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight of the business day `moment` belongs to."""
    local = moment.astimezone(zone)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


def history_window(day_start: datetime, days: int = HISTORY_DAYS) -> tuple[datetime, datetime]:
    """The span earlier days are learnt from: `days` calendar days up to `day_start`."""
    return day_start - timedelta(days=days), day_start
