"""Backtest: replay a ticket log and ask the estimator what it would have shown at each issue.

The log is turned into time-stamped events (issue, call, release, leave). They are applied in
time order to the state the live server keeps (waiting tickets in call order, what each counter
is doing) and to the same raw `Facts` the live server reads from its tables (`log_facts` here,
`queue_server.adapters.sql_history.read_facts` there). When a ticket is issued at T, the
snapshot is built from the events strictly before T plus the ticket itself, by the same
`learn_history`, `build_snapshot` and estimator the live server uses, and the estimate for its
place in the queue is recorded. Earlier days are learnt from the `HISTORY_DAYS` before the day
starts, so nothing that happened at or after T can reach the estimate for T.

Counter staffing comes from SESSIONS.csv when given (a counter is open inside a session; a
counter that closed earlier today while reception is still open is on a break, and the gaps
between sessions are the pauses learnt from), else it is inferred from the log as it unfolds: a
counter is open while it serves, for a while after, and whenever nothing it serves is waiting.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from queue_server.backtest.events import (
    CALL,
    ISSUE,
    LEAVE,
    RELEASE,
    Event,
    FactsLog,
    log_events,
    log_facts,
    minutes_between,
    pause_end,
    pauses_within,
    session_pauses,
)
from queue_server.backtest.log import Prediction, Session, TicketRecord, shown
from queue_server.domain.estimate import QueueSnapshot, WaitEstimator
from queue_server.domain.facts import (
    Pause,
    day_start_of,
    history_window,
)
from queue_server.domain.forecast import monte_carlo_estimate
from queue_server.domain.learning import History, learn_history
from queue_server.domain.office import Office
from queue_server.domain.snapshot import CounterState, build_snapshot

#: How long a counter counts as open after its last release, when staffing is inferred.
_INFER_IDLE_MINUTES = 10.0


#: Hook to replace the learnt inputs (the benchmark's "floor" gives the true parameters).
SnapshotHook = Callable[[QueueSnapshot], QueueSnapshot]
#: Called once per replayed business day (a progress bar), with the number of tickets issued.
Progress = Callable[[int], None]


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
    log: FactsLog = field(default_factory=FactsLog)
    last_wait: dict[str, float] = field(default_factory=dict)  # category -> last called's wait


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

    def learn_openings(
        self, events: Sequence[Event], records: Sequence[TicketRecord], since: datetime
    ) -> None:
        """Each counter's usual first minute of the day, over the history window before `since`.

        From the sessions when there are some, else from each counter's first call of the day.
        """
        start, _ = history_window(since)
        firsts: dict[str, dict[date, float]] = defaultdict(dict)
        if not self.inferred:
            for counter_id, rows in self.by_counter.items():
                for s in rows:
                    if start <= s.open_at < since:
                        local = s.open_at.astimezone(self.zone)
                        minute = minutes_between(day_start_of(s.open_at, self.zone), s.open_at)
                        firsts[counter_id].setdefault(local.date(), minute)
        else:
            first = bisect.bisect_left(events, (start, -1, -1))
            for at, kind, i in events[first:]:
                if at >= since:
                    break
                caller = records[i].counter_id
                if kind == CALL and caller is not None:
                    minute = minutes_between(day_start_of(at, self.zone), at)
                    firsts[caller].setdefault(at.astimezone(self.zone).date(), minute)
        self.opening_offset = {k: median(v.values()) for k, v in firsts.items() if v}

    def counter_states(self, now: datetime, day: _Day, reception_open: bool) -> list[CounterState]:
        out = []
        for counter in self.office.counters:
            state, since, opens_in = self._state(
                counter.id, counter.categories, now, day, reception_open
            )
            busy = day.busy.get(counter.id) if state == "open" else None
            out.append(
                CounterState(
                    id=counter.id,
                    categories=counter.categories,
                    state=state,
                    since=since,
                    busy_category=busy[0] if busy else None,
                    busy_since=busy[1] if busy else None,
                    opens_in=opens_in,
                )
            )
        return out

    def _not_yet_open(self, counter_id: str, now: datetime, day: _Day) -> float | None:
        usual = self.opening_offset.get(counter_id)
        if usual is None:
            return None
        return max(usual - minutes_between(day.start, now), 3.0)

    def _state(
        self,
        counter_id: str,
        categories: Sequence[str],
        now: datetime,
        day: _Day,
        reception_open: bool,
    ) -> tuple[str, datetime | None, float | None]:
        """(state, since when for a pause, minutes until a closed counter opens)."""
        if not self.inferred:
            rows = self.by_counter.get(counter_id, [])
            opened = self.open_times.get(counter_id, [])
            closed_today: datetime | None = None
            for i in range(bisect.bisect_right(opened, now) - 1, -1, -1):
                session = rows[i]
                if session.close_at < day.start:
                    break
                if now < session.close_at:
                    return "open", None, None
                closed_today = max(closed_today or session.close_at, session.close_at)
            if closed_today is None:
                opens = self._not_yet_open(counter_id, now, day) if reception_open else None
                return "closed", None, opens
            if not reception_open:
                return "closed", None, None
            return "paused", closed_today, None
        # Inferred from activity: only what has happened before `now` counts.
        if counter_id in day.busy:
            return "open", None, None
        last = day.last_release.get(counter_id)
        if last is None:
            opens = self._not_yet_open(counter_id, now, day) if reception_open else None
            return "closed", None, opens
        idle = minutes_between(last, now)
        if idle <= _INFER_IDLE_MINUTES or not any(day.waiting.get(c) for c in categories):
            return "open", None, None
        if not reception_open:
            return "closed", None, None
        return "paused", last, None


def replay(
    records: Sequence[TicketRecord],
    office: Office,
    sessions: Sequence[Session] | None = None,
    estimator: WaitEstimator = monte_carlo_estimate,
    hook: SnapshotHook | None = None,
    baselines: bool = False,
    only_days: Iterable[date] | None = None,
    progress: Progress | None = None,
) -> list[ReplayRow]:
    """What the system would have shown at each ticket's issue, in issue order.

    `only_days` limits the (costly) estimates to those business days; the other days still
    teach the estimator as history. `progress` is told each estimated day's ticket count.
    """
    zone = office.zone
    priors = {c.id: c.service_minutes for c in office.categories}
    wanted = set(only_days) if only_days is not None else None
    staffing = _Staffing(sessions, office, zone)
    events = log_events(records, priors)
    pauses = session_pauses(sessions, zone) if sessions is not None else []
    pause_ends = [pause_end(p) for p in pauses]
    rows: list[ReplayRow] = []
    day: _Day | None = None
    history = History()
    day_pauses: list[Pause] = []
    issued_today = 0

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
            if progress is not None and issued_today:
                progress(issued_today)
            issued_today = 0
            day = _Day(start=start)
            since, until = history_window(start)
            history = learn_history(
                log_facts(records, sessions, since, until, zone, _events_cache=events), zone
            )
            staffing.learn_openings(events, records, start)
            # this day's pauses, in the order they end (they are known once over)
            first = bisect.bisect_left(pause_ends, start)
            last = bisect.bisect_left(pause_ends, start + timedelta(days=1))
            day_pauses = [p for p in pauses[first:last] if p.at >= start]
        estimating = wanted is None or start.date() in wanted

        # Estimates first, from the state before this instant (plus the ticket itself).
        for _, kind, i in group:
            if kind != ISSUE or not estimating:
                continue
            issued_today += 1
            rows.append(
                _predict(
                    records[i],
                    at,
                    day,
                    office,
                    priors,
                    history,
                    pauses_within(day_pauses, start, at),
                    staffing,
                    estimator,
                    hook,
                    baselines,
                )
            )
        for _, kind, i in group:
            _apply(day, records[i], kind, at)
    if progress is not None and issued_today:
        progress(issued_today)
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
    pauses: Sequence[Pause],
    staffing: _Staffing,
    estimator: WaitEstimator,
    hook: SnapshotHook | None,
    with_baselines: bool,
) -> ReplayRow:
    zone = office.zone
    queue = list(day.waiting.get(r.category_id, ()))
    key = (r.priority_rank, r.issued_at, r.ticket_id)
    ahead = bisect.bisect_left(queue, key)
    waiting = {c: [(k[0], k[1]) for k in rows] for c, rows in day.waiting.items()}
    mine = [(k[0], k[1]) for k in queue]
    mine.insert(ahead, (r.priority_rank, r.issued_at))
    waiting[r.category_id] = mine
    reception = _reception_open(office, at)
    # Today's facts include the ticket itself, as the live server's do once it is issued.
    day.log.apply(r, ISSUE, r.issued_at)
    today = day.log.facts(pauses, zone)
    day.log.arrivals.pop()
    snapshot = build_snapshot(
        now=at,
        zone=zone,
        priors=priors,
        counters=staffing.counter_states(at, day, reception),
        waiting=waiting,
        history=history,
        today=today,
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
    hol = minutes_between(min(k[1] for k in queue), at) if queue else 0.0
    les = day.last_wait.get(c, 0.0)
    return {"QL": ql, "QL-m": qlm, "HOL": hol, "LES": les}


def history_abandonment(history: History) -> float:
    """Visitors who leave per waiting minute, averaged over every wait of earlier days."""
    exposure = sum(history.abandon_exposure)
    if exposure <= 0.0:
        return 0.002
    return sum(history.abandon_events) / exposure


def _apply(day: _Day, r: TicketRecord, kind: int, at: datetime) -> None:
    day.log.apply(r, kind, at)
    queue = day.waiting[r.category_id]
    key = (r.priority_rank, r.issued_at, r.ticket_id)
    if kind == ISSUE:
        bisect.insort(queue, key)
    elif kind in (CALL, LEAVE):
        pos = bisect.bisect_left(queue, key)
        if pos < len(queue) and queue[pos] == key:
            queue.pop(pos)
        if kind == CALL and r.counter_id is not None:
            day.busy[r.counter_id] = (r.category_id, at)
            day.last_wait[r.category_id] = minutes_between(r.issued_at, at)
    elif kind == RELEASE and r.counter_id is not None:
        day.busy.pop(r.counter_id, None)
        day.last_release[r.counter_id] = at
