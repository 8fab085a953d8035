"""A ticket log as time-stamped events, and the estimator's `Facts` read from them.

`log_facts` is the backtest's twin of `queue_server.adapters.sql_history.read_facts`: the same
facts, in the live server's definitions, from TICKETS.csv (and SESSIONS.csv for pauses) instead
of the tables. `replay` applies the same events in time order.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from queue_server.backtest.log import Session, TicketRecord
from queue_server.domain.facts import (
    Abandonment,
    Arrival,
    Facts,
    Pause,
    ServiceSample,
    Wait,
    open_days,
)

NO_SHOW_FALLBACK_MINUTES = 1.5

# Event kinds in the order they apply at one instant: a counter frees up, then calls (possibly
# the ticket issued at that very instant).
RELEASE, LEAVE, ISSUE, CALL = range(4)
Event = tuple[datetime, int, int]


def minutes_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 60.0


class FactsLog:
    """The `Facts` of the events applied to it, in the live server's definitions."""

    def __init__(self) -> None:
        self.services: list[ServiceSample] = []
        self.arrivals: list[Arrival] = []
        self.waits: list[Wait] = []
        self.abandonments: list[Abandonment] = []
        self.calls: dict[str, int] = defaultdict(int)
        self.no_shows: dict[str, int] = defaultdict(int)
        self.lost: list[float] = []

    def apply(self, r: TicketRecord, kind: int, at: datetime) -> None:
        if kind == ISSUE:
            self.arrivals.append(Arrival(r.category_id, r.priority_rank, r.issued_at))
        elif kind == CALL:
            self.waits.append(Wait(r.category_id, minutes_between(r.issued_at, at), at))
        elif kind == LEAVE:
            self.abandonments.append(
                Abandonment(r.category_id, minutes_between(r.issued_at, at), at)
            )
        elif kind == RELEASE and r.called_at is not None and r.outcome != "cancelled":
            # A visitor cancelled at the counter ends no service and resolves no call (live too).
            self.calls[r.category_id] += 1
            if r.outcome == "no_show":
                self.no_shows[r.category_id] += 1
                self.lost.append(minutes_between(r.called_at, at))
            else:
                minutes = max(minutes_between(r.called_at, at), 0.0)
                self.services.append(ServiceSample(r.category_id, minutes, at, r.counter_id))

    def facts(self, pauses: Sequence[Pause], zone: ZoneInfo) -> Facts:
        return Facts(
            services=tuple(self.services),
            arrivals=tuple(self.arrivals),
            waits=tuple(self.waits),
            abandonments=tuple(self.abandonments),
            calls=dict(self.calls),
            no_shows=dict(self.no_shows),
            # fsum is exact, so the total does not depend on the order the no-shows came in
            no_show_minutes=math.fsum(self.lost),
            pauses=tuple(pauses),
            days=open_days(self.arrivals, zone),
        )


def log_events(records: Sequence[TicketRecord], prior_means: Mapping[str, float]) -> list[Event]:
    events: list[Event] = []
    for i, r in enumerate(records):
        events.append((r.issued_at, ISSUE, i))
        if r.called_at is not None:
            events.append((r.called_at, CALL, i))
            release = r.finished_at
            if release is None:
                minutes = (
                    NO_SHOW_FALLBACK_MINUTES
                    if r.outcome == "no_show"
                    else prior_means.get(r.category_id, 5.0)
                )
                release = r.called_at + timedelta(minutes=minutes)
            events.append((max(release, r.called_at), RELEASE, i))
        elif r.finished_at is not None:
            events.append((r.finished_at, LEAVE, i))
    events.sort()
    return events


def session_pauses(sessions: Iterable[Session], zone: ZoneInfo) -> list[Pause]:
    """Gaps between a counter's consecutive sessions on the same local day, by reopening time."""
    by_counter: dict[str, list[Session]] = defaultdict(list)
    for s in sessions:
        by_counter[s.counter_id].append(s)
    out: list[Pause] = []
    for counter_id, rows in by_counter.items():
        rows.sort(key=lambda s: s.open_at)
        for a, b in itertools.pairwise(rows):
            if b.open_at.astimezone(zone).date() == a.close_at.astimezone(zone).date():
                out.append(Pause(counter_id, a.close_at, minutes_between(a.close_at, b.open_at)))
    out.sort(key=pause_end)
    return out


def pause_end(p: Pause) -> datetime:
    return p.at + timedelta(minutes=p.minutes)


def pauses_within(pauses: Sequence[Pause], since: datetime, until: datetime) -> list[Pause]:
    """Pauses that began at or after `since` and were over (the counter open again) by `until`."""
    return [p for p in pauses if since <= p.at and pause_end(p) < until]


def log_facts(
    records: Sequence[TicketRecord],
    sessions: Sequence[Session] | None,
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
    *,
    _events_cache: Sequence[Event] | None = None,
) -> Facts:
    """The `Facts` of the events at or after `since` and before `until` in a ticket log.

    The same facts `read_facts` reads from the live tables for the same events; pauses come
    from SESSIONS.csv (none without it).
    """
    events = _events_cache if _events_cache is not None else log_events(records, {})
    log = FactsLog()
    first = bisect.bisect_left(events, (since, -1, -1))
    for at, kind, i in events[first:]:
        if at >= until:
            break
        log.apply(records[i], kind, at)
    pauses = pauses_within(session_pauses(sessions, zone), since, until) if sessions else []
    return log.facts(pauses, zone)
