"""Read-only statistics from the transition log: per day, hour, procedure, counter and clerk,
open data per hour and procedure, typical congestion by weekday and hour, a clerk's own day.

Every figure is derived from `ticket_transitions` (each change of every ticket with its time,
counter, category and actor), so waits and service times are measured, never guessed. Nothing
here returns a ticket's public id or anything a visitor brought.
"""

from __future__ import annotations

import statistics as stats
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any, Protocol
from zoneinfo import ZoneInfo

GROUPINGS = ("day", "hour", "category", "counter", "clerk")
_QUEUEING = frozenset({"issue", "return", "transfer"})  # actions after which a ticket waits
_LEAVING = frozenset({"call", "cancel", "close-out"})  # actions that end a wait in the queue
_OPEN_STATES = frozenset({"issued", "called", "serving", "on_hold"})


@dataclass(frozen=True)
class Transition:
    """One row of the transition log, as the statistics need it."""

    ticket_id: int
    number: str
    action: str
    to_state: str
    at: datetime
    category_id: str
    counter_id: str | None
    actor: str | None
    priority: str = "normal"  # the ticket's: "reservation" marks a booked visit


#: How a visitor came: with a booked visit (来庁予約) or not (walk-ins, assistance included).
VISITS = ("walk_in", "reservation")


def visit_of(row: Transition) -> str:
    return "reservation" if row.priority == "reservation" else "walk_in"


class StatisticsStore(Protocol):
    def transitions(self, first: date, last: date) -> list[Transition]:
        """Transitions of the tickets of business days first..last, in time order per ticket."""
        ...


@dataclass
class _Bucket:
    issued: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    idle: float = 0.0

    def row(self) -> dict[str, Any]:
        return {
            "issued": self.issued,
            "called": self.called,
            "served": self.served,
            "no_shows": self.no_shows,
            "wait_mean_minutes": _round(stats.fmean(self.waits)) if self.waits else None,
            "wait_median_minutes": _round(stats.median(self.waits)) if self.waits else None,
            "wait_max_minutes": _round(max(self.waits)) if self.waits else None,
            "service_mean_minutes": _round(stats.fmean(self.services)) if self.services else None,
            "service_median_minutes": _round(stats.median(self.services))
            if self.services
            else None,
            "idle_minutes": _round(self.idle),
        }


def _round(value: float) -> float:
    return round(value, 1)


def _minutes(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds() / 60.0)


def clerk_name(actor: str | None) -> str | None:
    """Clerk name from an actor ("staff:suzuki" -> "suzuki"); devices are not clerks."""
    if actor and actor.startswith("staff:"):
        return actor.removeprefix("staff:")
    return None


@dataclass(frozen=True)
class _Facts:
    """What happened, sample by sample, with the keys each sample is grouped by."""

    issued: list[tuple[datetime, str]]  # (at, category)
    waits: list[tuple[datetime, datetime, str, str | None, str | None]]  # queued, called, ...
    calls: list[tuple[datetime, str, str | None, str | None]]
    services: list[tuple[datetime, float, str, str | None, str | None]]
    no_shows: list[tuple[datetime, str, str | None, str | None]]
    idle: list[tuple[datetime, float, str, str | None]]  # (at, minutes, counter, clerk)
    queue_spans: list[tuple[datetime, datetime | None, str]]  # waiting from, until, category


def _facts(rows: Iterable[Transition], zone: ZoneInfo) -> _Facts:
    by_ticket: dict[int, list[Transition]] = defaultdict(list)
    for row in rows:
        by_ticket[row.ticket_id].append(row)
    facts = _Facts([], [], [], [], [], [], [])
    counter_events: dict[str, list[tuple[datetime, str, str | None]]] = defaultdict(list)
    for log in by_ticket.values():
        queued: tuple[datetime, str] | None = None
        called: datetime | None = None
        started: datetime | None = None
        for tr in log:
            if tr.action == "issue":
                facts.issued.append((tr.at, tr.category_id))
            if tr.action in _LEAVING and queued is not None:
                facts.queue_spans.append((queued[0], tr.at, queued[1]))
            if tr.action == "call":
                clerk = clerk_name(tr.actor)
                if queued is not None:
                    facts.waits.append((queued[0], tr.at, tr.category_id, tr.counter_id, clerk))
                facts.calls.append((tr.at, tr.category_id, tr.counter_id, clerk))
                called, started = tr.at, None
                if tr.counter_id:
                    counter_events[tr.counter_id].append((tr.at, "busy", clerk))
            elif tr.action == "start":
                started = tr.at
            elif tr.action in ("finish", "no-show", "transfer") and called is not None:
                clerk = clerk_name(tr.actor)
                if tr.action == "finish":
                    begun = started or called
                    facts.services.append(
                        (tr.at, _minutes(tr.at - begun), tr.category_id, tr.counter_id, clerk)
                    )
                if tr.action == "no-show":
                    facts.no_shows.append((tr.at, tr.category_id, tr.counter_id, clerk))
                if tr.counter_id:
                    counter_events[tr.counter_id].append((tr.at, "free", clerk))
                called = None
            queued = (tr.at, tr.category_id) if tr.action in _QUEUEING else None
            if tr.action in _LEAVING:
                queued = None
        if queued is not None:
            facts.queue_spans.append((queued[0], None, queued[1]))
    # Idle time: from a counter freeing up to its next call on the same day (breaks included;
    # time before the first call and after the last is not counted).
    for counter, events in counter_events.items():
        events.sort(key=lambda e: e[0])
        for (at, kind, clerk), (next_at, next_kind, _) in pairwise(events):
            same_day = at.astimezone(zone).date() == next_at.astimezone(zone).date()
            if kind == "free" and next_kind == "busy" and same_day:
                facts.idle.append((at, _minutes(next_at - at), counter, clerk))
    return facts


class Statistics:
    """Figures for administrators, open data and the public congestion page."""

    def __init__(self, store: StatisticsStore, zone: ZoneInfo) -> None:
        self._store = store
        self._zone = zone

    def _local(self, at: datetime) -> datetime:
        return at.astimezone(self._zone)

    def report(
        self, first: date, last: date, by: str, visit: str | None = None
    ) -> list[dict[str, Any]]:
        """One row per group (day, hour, category, counter or clerk) between two local dates;
        with `visit`, of walk-ins or of reservations only."""
        if by not in GROUPINGS:
            raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
        rows = self._store.transitions(first, last)
        if visit is not None:
            rows = [row for row in rows if visit_of(row) == visit]
        facts = _facts(rows, self._zone)
        buckets: dict[str, _Bucket] = defaultdict(_Bucket)

        def key(at: datetime, category: str | None, counter: str | None, clerk: str | None) -> Any:
            local = self._local(at)
            return {
                "day": local.date().isoformat(),
                "hour": f"{local.hour:02d}",
                "category": category,
                "counter": counter,
                "clerk": clerk,
            }[by]

        for at, category in facts.issued:
            k = key(at, category, None, None)
            if k is not None:
                buckets[k].issued += 1
        for queued, called_at, category, counter, clerk in facts.waits:
            k = key(queued if by == "hour" else called_at, category, counter, clerk)
            if k is not None:
                buckets[k].waits.append(_minutes(called_at - queued))
        for at, category, counter, clerk in facts.calls:
            k = key(at, category, counter, clerk)
            if k is not None:
                buckets[k].called += 1
        for at, minutes, category, counter, clerk in facts.services:
            k = key(at, category, counter, clerk)
            if k is not None:
                buckets[k].served += 1
                buckets[k].services.append(minutes)
        for at, category, counter, clerk in facts.no_shows:
            k = key(at, category, counter, clerk)
            if k is not None:
                buckets[k].no_shows += 1
        if by in ("day", "hour", "counter", "clerk"):
            for at, minutes, counter, clerk in facts.idle:
                k = key(at, None, counter, clerk)
                if k is not None:
                    buckets[k].idle += minutes
        return [{by: k, **buckets[k].row()} for k in sorted(buckets)]

    def hourly(self, first: date, last: date, now: datetime) -> list[dict[str, Any]]:
        """Open data: per local hour and procedure, tickets issued, people waiting at the end
        of the hour, and the mean and median wait of the tickets that joined the queue in that
        hour (minutes until called). Counts and durations only."""
        facts = _facts(self._store.transitions(first, last), self._zone)
        rows: dict[tuple[datetime, str], _Bucket] = defaultdict(_Bucket)
        waiting: dict[tuple[datetime, str], int] = defaultdict(int)

        def hour_of(at: datetime) -> datetime:
            return self._local(at).replace(minute=0, second=0, microsecond=0)

        for at, category in facts.issued:
            rows[hour_of(at), category].issued += 1
        for queued, called_at, category, _, _ in facts.waits:
            rows[hour_of(queued), category].waits.append(_minutes(called_at - queued))
        for start, end, category in facts.queue_spans:
            hour = hour_of(start)
            while True:
                hour_end = hour + timedelta(hours=1)
                if end is not None and end <= hour_end:
                    break
                if hour_end.date() != self._local(start).date() or hour_end > now:
                    break  # an unfinished day is closed out overnight; the future is unknown
                waiting[hour, category] += 1
                rows[hour, category]  # the hour is listed although nobody was issued in it
                hour = hour_end
        result = []
        for (hour, category), bucket in sorted(rows.items()):
            row = bucket.row()
            result.append(
                {
                    "date": hour.date().isoformat(),
                    "hour": hour.hour,
                    "category_id": category,
                    "issued": bucket.issued,
                    "waiting_at_hour_end": waiting.get((hour, category), 0),
                    "wait_mean_minutes": row["wait_mean_minutes"],
                    "wait_median_minutes": row["wait_median_minutes"],
                }
            )
        return result

    def typical(self, today: date, weeks: int = 8) -> dict[str, Any]:
        """Typical congestion: mean tickets issued per weekday and hour over past weeks (days
        with no ticket at all are taken as closed, not as quiet)."""
        first = today - timedelta(weeks=weeks)
        facts = _facts(self._store.transitions(first, today - timedelta(days=1)), self._zone)
        counts: dict[tuple[int, int], int] = defaultdict(int)
        open_days: dict[int, set[date]] = defaultdict(set)
        for at, _ in facts.issued:
            local = self._local(at)
            counts[local.weekday(), local.hour] += 1
            open_days[local.weekday()].add(local.date())
        cells = [
            {"weekday": wd, "hour": hour, "mean_issued": _round(n / len(open_days[wd]))}
            for (wd, hour), n in sorted(counts.items())
        ]
        return {"weeks": weeks, "days": sum(len(d) for d in open_days.values()), "cells": cells}

    def console(self, today: date, counter_id: str, clerk: str) -> dict[str, Any]:
        """A clerk console's day: the ticket at this counter, tickets on hold there, today's
        no-shows (to take back), and the clerk's own figures."""
        rows = self._store.transitions(today, today)
        last: dict[int, Transition] = {}
        for row in rows:
            last[row.ticket_id] = row
        current = [
            t.ticket_id
            for t in last.values()
            if t.counter_id == counter_id and t.to_state in ("called", "serving")
        ]
        held = [
            t.ticket_id
            for t in last.values()
            if t.counter_id == counter_id and t.to_state == "on_hold"
        ]
        no_shows = [
            {"id": t.ticket_id, "number": t.number, "category_id": t.category_id}
            for t in last.values()
            if t.to_state == "no_show"
        ]
        facts = _facts(rows, self._zone)
        mine = _Bucket()
        mine.called = sum(1 for c in facts.calls if c[3] == clerk)
        mine.services = [s[1] for s in facts.services if s[4] == clerk]
        mine.served = len(mine.services)
        mine.no_shows = sum(1 for n in facts.no_shows if n[3] == clerk)
        mine.idle = sum(i[1] for i in facts.idle if i[3] == clerk)
        return {
            "current_ids": current,
            "held_ids": held,
            "no_shows": no_shows,
            "mine": mine.row(),
            "open_tickets": sum(1 for t in last.values() if t.to_state in _OPEN_STATES),
        }


def csv_text(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV (RFC 4180, CRLF), with a header line; None becomes an empty field."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return buffer.getvalue()
