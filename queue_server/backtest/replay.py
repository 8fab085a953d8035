"""Backtest: replay a ticket log and ask the estimator what it would have shown at each issue.

The log is turned into time-stamped events (issue, call, release, leave). They are applied in
time order to the state the live server keeps (waiting tickets in call order, what each counter
is doing, today's services, entries, calls and no-shows). When a ticket is issued at T, the
snapshot is built from the events strictly before T plus the ticket itself, by the same
`build_snapshot` and estimator the live server uses, and the estimate for its place in the queue
is recorded. Earlier days are learnt from only once the day they belong to is over, so nothing
that happened at or after T can reach the estimate for T.

Counter staffing comes from SESSIONS.csv when given (a counter is open inside a session; a
counter that closed earlier today while reception is still open is on a break), else it is
inferred from the log as it unfolds: a counter is open while it serves, for a while after, and
whenever nothing it serves is waiting.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from queue_server.backtest.log import Prediction, Session, TicketRecord, shown
from queue_server.domain.estimate import CounterSnapshot, QueueSnapshot, WaitEstimator
from queue_server.domain.forecast import monte_carlo_estimate
from queue_server.domain.learning import (
    Arrival,
    History,
    ServiceSample,
    TodayCounts,
    build_snapshot,
    day_start_of,
    learn_history,
    paused_return,
)
from queue_server.domain.office import Office

#: How long a counter counts as open after its last release, when staffing is inferred.
_INFER_IDLE_MINUTES = 10.0
_HISTORY_DAYS = 20
_NO_SHOW_FALLBACK_MINUTES = 1.5

# Event kinds in the order they apply at one instant: a counter frees up, then calls (possibly
# the ticket issued at that very instant).
_RELEASE, _LEAVE, _ISSUE, _CALL = range(4)

#: Hook to replace the learnt inputs (the benchmark's "floor" gives the true parameters).
SnapshotHook = Callable[[QueueSnapshot], QueueSnapshot]


@dataclass(frozen=True)
class ReplayRow:
    """One issued ticket: what was shown, what happened, and the baselines' figures."""

    record: TicketRecord
    prediction: Prediction
    baselines: Mapping[str, float] = field(default_factory=dict)
    ahead: int = 0


@dataclass
class _Day:
    """The live state of one business day."""

    start: datetime
    waiting: dict[str, list[tuple[int, datetime, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    busy: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # counter -> (cat, since)
    last_release: dict[str, datetime] = field(default_factory=dict)
    first_seen: dict[str, datetime] = field(default_factory=dict)
    services: list[ServiceSample] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    no_shows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    no_show_minutes: float = 0.0
    last_wait: dict[str, float] = field(default_factory=dict)  # category -> last called's wait


def _events(
    records: Sequence[TicketRecord], prior_means: Mapping[str, float]
) -> list[tuple[datetime, int, int]]:
    events: list[tuple[datetime, int, int]] = []
    for i, r in enumerate(records):
        events.append((r.issued_at, _ISSUE, i))
        if r.called_at is not None:
            events.append((r.called_at, _CALL, i))
            release = r.finished_at
            if release is None:
                minutes = (
                    _NO_SHOW_FALLBACK_MINUTES
                    if r.outcome == "no_show"
                    else prior_means.get(r.category_id, 5.0)
                )
                release = r.called_at + timedelta(minutes=minutes)
            events.append((max(release, r.called_at), _RELEASE, i))
        elif r.finished_at is not None:
            events.append((r.finished_at, _LEAVE, i))
    events.sort()
    return events


class _Staffing:
    """Whether each counter is open at a moment, from sessions or inferred from activity."""

    def __init__(self, sessions: Sequence[Session] | None, office: Office, zone: ZoneInfo) -> None:
        self.office = office
        self.zone = zone
        self.by_counter: dict[str, list[Session]] = defaultdict(list)
        for s in sessions or ():
            self.by_counter[s.counter_id].append(s)
        for rows in self.by_counter.values():
            rows.sort(key=lambda s: s.open_at)
        self.open_times = {k: [s.open_at for s in v] for k, v in self.by_counter.items()}
        self.inferred = sessions is None
        self.opening_offset: dict[str, float] = {}  # counter -> usual minutes after midnight

    def learn_openings(self, day_firsts: Mapping[str, list[float]]) -> None:
        self.opening_offset = {k: median(v) for k, v in day_firsts.items() if v}

    def snapshot_counters(
        self, now: datetime, day: _Day, history: History, reception_open: bool
    ) -> list[CounterSnapshot]:
        out = []
        for counter in self.office.counters:
            busy = day.busy.get(counter.id)
            available, returns_in = self._state(
                counter.id, counter.categories, now, day, history, reception_open
            )
            out.append(
                CounterSnapshot(
                    id=counter.id,
                    categories=counter.categories,
                    available=available,
                    busy_category=busy[0] if busy and available else None,
                    busy_since=busy[1] if busy and available else None,
                    returns_in=returns_in,
                )
            )
        return out

    def _not_yet_open(self, counter_id: str, now: datetime, day: _Day) -> float | None:
        usual = self.opening_offset.get(counter_id)
        if usual is None:
            return None
        minutes = (now - day.start).total_seconds() / 60.0
        return max(usual - minutes, 3.0)

    def _state(
        self,
        counter_id: str,
        categories: Sequence[str],
        now: datetime,
        day: _Day,
        history: History,
        reception_open: bool,
    ) -> tuple[bool, float | None]:
        if not self.inferred:
            rows = self.by_counter.get(counter_id, [])
            opened = self.open_times.get(counter_id, [])
            closed_today: datetime | None = None
            for i in range(bisect.bisect_right(opened, now) - 1, -1, -1):
                session = rows[i]
                if session.close_at < day.start:
                    break
                if now < session.close_at:
                    return True, None
                closed_today = max(closed_today or session.close_at, session.close_at)
            if closed_today is None:
                return False, self._not_yet_open(counter_id, now, day) if reception_open else None
            if not reception_open:
                return False, None
            return False, paused_return(history, closed_today, now, self.zone)
        # Inferred from activity: only what has happened before `now` counts.
        if counter_id in day.busy:
            return True, None
        last = day.last_release.get(counter_id)
        if last is None:
            return False, self._not_yet_open(counter_id, now, day) if reception_open else None
        idle = (now - last).total_seconds() / 60.0
        if idle <= _INFER_IDLE_MINUTES or not any(day.waiting.get(c) for c in categories):
            return True, None
        if not reception_open:
            return False, None
        return False, paused_return(history, last, now, self.zone)


def replay(
    records: Sequence[TicketRecord],
    office: Office,
    sessions: Sequence[Session] | None = None,
    estimator: WaitEstimator = monte_carlo_estimate,
    hook: SnapshotHook | None = None,
    baselines: bool = False,
    only_days: Iterable[date] | None = None,
) -> list[ReplayRow]:
    """What the system would have shown at each ticket's issue, in issue order.

    `only_days` limits the (costly) estimates to those business days; the other days still
    teach the estimator as history.
    """
    zone = office.zone
    priors = {c.id: c.service_minutes for c in office.categories}
    wanted = set(only_days) if only_days is not None else None
    staffing = _Staffing(sessions, office, zone)
    events = _events(records, priors)
    rows: list[ReplayRow] = []
    finished_days: list[tuple[date, _Day]] = []
    day: _Day | None = None
    history = History()
    history_key: date | None = None

    index = 0
    while index < len(events):
        at = events[index][0]
        group_end = index
        while group_end < len(events) and events[group_end][0] == at:
            group_end += 1
        group = events[index:group_end]
        index = group_end

        start = day_start_of(at, zone)
        if day is None or start != day.start:
            if day is not None:
                finished_days.append((day.start.date(), day))
            day = _Day(start=start)
        if history_key != start.date():
            history = _learn(finished_days[-_HISTORY_DAYS:], records, zone, staffing, sessions)
            history_key = start.date()

        # Estimates first, from the state before this instant (plus the ticket itself).
        for _, kind, i in group:
            if kind != _ISSUE:
                continue
            r = records[i]
            if wanted is not None and start.date() not in wanted:
                continue
            rows.append(
                _predict(r, at, day, office, priors, history, staffing, estimator, hook, baselines)
            )
        for _, kind, i in group:
            _apply(day, records[i], kind, at)
    return rows


def _reception_open(office: Office, at: datetime) -> bool:
    """Whether tickets are still being issued on this weekday's hours (breaks end before)."""
    local = office.local(at)
    hours = office.calendar.special_openings.get(local.date()) or office.calendar.weekly_hours.get(
        local.weekday()
    )
    return hours is not None and local.time().replace(tzinfo=None) < hours.end


def _predict(
    r: TicketRecord,
    at: datetime,
    day: _Day,
    office: Office,
    priors: Mapping[str, float],
    history: History,
    staffing: _Staffing,
    estimator: WaitEstimator,
    hook: SnapshotHook | None,
    with_baselines: bool,
) -> ReplayRow:
    zone = office.zone
    queue = list(day.waiting.get(r.category_id, ()))
    key = (r.priority_rank, r.issued_at, r.ticket_id)
    ahead = bisect.bisect_left(queue, key)
    waiting = {c: [k[0] for k in rows] for c, rows in day.waiting.items()}
    mine = [k[0] for k in queue]
    mine.insert(ahead, r.priority_rank)
    waiting[r.category_id] = mine
    reception = _reception_open(office, at)
    counters = staffing.snapshot_counters(at, day, history, reception)
    snapshot = build_snapshot(
        now=at,
        zone=zone,
        priors=priors,
        counters=counters,
        waiting=waiting,
        history=history,
        services_today=day.services,
        arrivals_today=[*day.arrivals, _arrival(r)],
        counts_today=TodayCounts(dict(day.calls), dict(day.no_shows)),
        day_start=day.start,
    )
    if hook is not None:
        snapshot = hook(snapshot)
    estimate = estimator(snapshot).for_rank(r.category_id, ahead)
    if estimate is None:
        prediction = Prediction(r.ticket_id, None, None, None)
    else:
        prediction = Prediction(r.ticket_id, *shown(estimate.minutes, estimate.low, estimate.high))
    figures: dict[str, float] = {}
    if with_baselines:
        figures = _baselines(r, at, ahead, day, snapshot, history)
    return ReplayRow(r, prediction, figures, ahead)


def _baselines(
    r: TicketRecord, at: datetime, ahead: int, day: _Day, snapshot: QueueSnapshot, history: History
) -> dict[str, float]:
    """The delay-history and queue-length predictors the literature compares against."""
    c = r.category_id
    servers = sum(1 for k in snapshot.counters if k.available and c in k.categories) or 1
    mean = snapshot.service_minutes.get(c, 5.0)
    ql = (ahead + 1) * mean / servers
    p = snapshot.no_show_rates.get(c, 0.0)
    effective = (1.0 - p) * mean + p * snapshot.no_show_minutes
    theta = history_abandonment(history)
    qlm = sum(1.0 / (servers / effective + i * theta) for i in range(ahead + 1))
    queue = day.waiting.get(c, [])
    hol = (at - min(k[1] for k in queue)).total_seconds() / 60.0 if queue else 0.0
    les = day.last_wait.get(c, 0.0)
    return {"QL": ql, "QL-m": qlm, "HOL": hol, "LES": les}


def history_abandonment(history: History) -> float:
    """Visitors who leave per waiting minute; small and the same for every category here."""
    del history
    return 0.002


def _arrival(r: TicketRecord) -> Arrival:
    return Arrival(r.category_id, r.priority_rank, r.issued_at)


def _apply(day: _Day, r: TicketRecord, kind: int, at: datetime) -> None:
    queue = day.waiting[r.category_id]
    key = (r.priority_rank, r.issued_at, r.ticket_id)
    if kind == _ISSUE:
        bisect.insort(queue, key)
        day.arrivals.append(_arrival(r))
    elif kind in (_CALL, _LEAVE):
        pos = bisect.bisect_left(queue, key)
        if pos < len(queue) and queue[pos] == key:
            queue.pop(pos)
        if kind == _CALL and r.counter_id is not None:
            day.busy[r.counter_id] = (r.category_id, at)
            day.first_seen.setdefault(r.counter_id, at)
            day.last_wait[r.category_id] = (at - r.issued_at).total_seconds() / 60.0
    elif kind == _RELEASE:
        if r.counter_id is not None:
            day.busy.pop(r.counter_id, None)
            day.last_release[r.counter_id] = at
        day.calls[r.category_id] += 1
        if r.outcome == "no_show":
            day.no_shows[r.category_id] += 1
            if r.called_at is not None:
                day.no_show_minutes += (at - r.called_at).total_seconds() / 60.0
        elif r.called_at is not None:
            minutes = (at - r.called_at).total_seconds() / 60.0
            day.services.append(ServiceSample(r.category_id, minutes, at, r.counter_id))


def _learn(
    days: Sequence[tuple[date, _Day]],
    records: Sequence[TicketRecord],
    zone: ZoneInfo,
    staffing: _Staffing,
    sessions: Sequence[Session] | None,
) -> History:
    """History from finished days only: their services, entries, no-shows and pauses."""
    del records
    samples: list[ServiceSample] = []
    arrivals: list[Arrival] = []
    calls = missed = 0
    lost = 0.0
    firsts: dict[str, list[float]] = defaultdict(list)
    for _, d in days:
        samples.extend(d.services)
        arrivals.extend(d.arrivals)
        calls += sum(d.calls.values())
        missed += sum(d.no_shows.values())
        lost += d.no_show_minutes
        for counter_id, first in d.first_seen.items():
            firsts[counter_id].append((first - d.start).total_seconds() / 60.0)
    pauses: list[tuple[datetime, float]] = []
    if sessions is not None and days:
        first_day = days[0][1].start
        last_day = days[-1][1].start + timedelta(days=1)
        for rows in staffing.by_counter.values():
            for a, b in itertools.pairwise(rows):
                if first_day <= a.close_at < last_day and b.open_at.date() == a.close_at.date():
                    pauses.append((a.close_at, (b.open_at - a.close_at).total_seconds() / 60.0))
        staffing.learn_openings(_session_openings(staffing, first_day, last_day, zone))
    else:
        staffing.learn_openings(firsts)
    return learn_history(
        samples,
        arrivals,
        len(days),
        zone,
        (calls, missed, lost),
        pauses,
    )


def _session_openings(
    staffing: _Staffing, first_day: datetime, last_day: datetime, zone: ZoneInfo
) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for counter_id, rows in staffing.by_counter.items():
        seen: set[date] = set()
        for s in rows:
            local = s.open_at.astimezone(zone)
            if first_day <= s.open_at < last_day and local.date() not in seen:
                seen.add(local.date())
                out[counter_id].append(
                    (s.open_at - day_start_of(s.open_at, zone)).total_seconds() / 60.0
                )
    return out
