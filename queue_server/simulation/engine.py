"""Discrete-event simulation of a city-hall day, writing the ticket log a ticket machine exports.

Arrivals follow the day's time-varying rate (thinning of a Poisson process); counters open in
sessions with staggered lunches and short absences and call by the office's dispatch rule
(`queue_server.domain.dispatch`): their categories in priority order, then ticket priority, then
the oldest. Called visitors may be absent (no-show, the clerk gives up after a short while);
waiting visitors may give up (cancelled). Service times are lognormal, scaled by the clerk's
pace, the day's pace and a drift through the day, with a few long complex cases.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from queue_server.backtest.log import Session, TicketRecord
from queue_server.simulation.model import CityHallModel, CounterSpec, DayTruth

_RANK_NAMES = ("assistance", "reservation", "normal")
_PREFIX = "t"


@dataclass
class _Ticket:
    id: str
    category_id: str
    rank: int
    issued_at: datetime
    patience: float  # minutes; inf for visitors who never give up
    called_at: datetime | None = None
    finished_at: datetime | None = None
    counter_id: str | None = None
    outcome: str = "done"
    waiting: bool = True


@dataclass
class _Counter:
    spec: CounterSpec
    plan: list[tuple[datetime, datetime]]  # planned sessions
    in_session: bool = False
    busy: bool = False
    final: bool = False  # past its last planned close: stops once nobody it serves waits
    opened_at: datetime | None = None
    sessions: list[Session] = field(default_factory=list)


@dataclass(frozen=True)
class SimulatedDay:
    truth: DayTruth
    records: tuple[TicketRecord, ...]
    sessions: tuple[Session, ...]


def _plan(
    model: CityHallModel, spec: CounterSpec, truth: DayTruth, rng: random.Random
) -> list[tuple[datetime, datetime]]:
    opening = truth.opening()
    close = datetime.combine(truth.day, model.reception_end, tzinfo=model.zone)
    lunch_start = opening + timedelta(minutes=180 + 60 * spec.lunch_group + rng.uniform(-10, 10))
    lunch = rng.uniform(*model.lunch_minutes)
    breaks = [(lunch_start, lunch_start + timedelta(minutes=lunch))]
    for _ in range(rng.randint(*model.short_breaks)):
        at = opening + timedelta(minutes=rng.uniform(60, 450))
        if any(b0 - timedelta(minutes=20) < at < b1 + timedelta(minutes=20) for b0, b1 in breaks):
            continue
        breaks.append((at, at + timedelta(minutes=rng.uniform(*model.short_break_minutes))))
    breaks = sorted((_whole(b0), _whole(b1)) for b0, b1 in breaks)
    sessions = []
    start = _whole(opening + timedelta(minutes=spec.opens_late))
    for b0, b1 in breaks:
        if b0 > start:
            sessions.append((start, b0))
        start = max(start, b1)
    sessions.append((start, close))
    return sessions


def simulate_day(model: CityHallModel, day: date, seed: int) -> SimulatedDay:
    """One day of the office under `model`, reproducible from `seed`."""
    rng = random.Random(seed)
    truth = DayTruth(
        day=day,
        demand=math.exp(rng.gauss(0.0, model.day_sd)) * model.weekday_factor[day.weekday()],
        pace=math.exp(rng.gauss(0.0, model.speed_day_sd)),
        model=model,
    )
    events: list[tuple[datetime, int, str, object]] = []
    order = 0

    def push(at: datetime, kind: str, payload: object) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, payload))

    # Arrivals by thinning: candidate times at the peak rate, kept with probability rate/peak.
    opening = truth.opening()
    close = datetime.combine(day, model.reception_end, tzinfo=model.zone)
    span = (close - opening).total_seconds() / 60.0
    tickets: list[_Ticket] = []
    for p in model.procedures:
        peak = max(
            truth.arrival_rate(p.id, opening + timedelta(minutes=m)) for m in range(0, int(span), 5)
        )
        if peak <= 0.0:
            continue
        peak *= 1.1
        shares = truth.priority_shares(p.id)
        minute = rng.expovariate(peak)
        while minute < span:
            at = opening + timedelta(minutes=minute)
            if rng.random() < truth.arrival_rate(p.id, at) / peak:
                rank = (
                    0
                    if rng.random() < shares[0]
                    else 1
                    if rng.random() < shares[1] / (1 - shares[0])
                    else 2
                )
                patient = rng.random() >= model.patience_share
                patience = (
                    math.inf if patient else model.patience_median * math.exp(rng.gauss(0, 0.5))
                )
                tickets.append(_Ticket("", p.id, rank, at.replace(microsecond=0), patience))
            minute += rng.expovariate(peak)
    tickets.sort(key=lambda t: (t.issued_at, t.category_id))
    for number, ticket in enumerate(tickets, start=1):
        ticket.id = f"{day:%Y%m%d}-{number:04d}"
        push(ticket.issued_at, "arrive", ticket)
        if math.isfinite(ticket.patience):
            push(_whole(ticket.issued_at + timedelta(minutes=ticket.patience)), "abandon", ticket)

    counters = [_Counter(spec, _plan(model, spec, truth, rng)) for spec in model.counters]
    for counter in counters:
        for i, (start, end) in enumerate(counter.plan):
            push(start, "open", counter)
            push(end, "close_final" if i == len(counter.plan) - 1 else "close", counter)

    queues: dict[str, list[tuple[int, datetime, str, _Ticket]]] = {
        p.id: [] for p in model.procedures
    }

    def head(category_id: str) -> _Ticket | None:
        queue = queues.get(category_id, [])
        while queue and not queue[0][3].waiting:
            heapq.heappop(queue)
        return queue[0][3] if queue else None

    def service_minutes(ticket: _Ticket, counter: _Counter, at: datetime) -> float:
        p = model.procedure(ticket.category_id)
        minutes = counter.spec.pace(p.id) * math.exp(
            truth.service_mu(p.id, at) + p.sigma * rng.gauss(0, 1)
        )
        if rng.random() < model.outlier_share:
            minutes *= rng.uniform(3.0, 5.0)
        return minutes

    def close_session(counter: _Counter, at: datetime) -> None:
        if counter.opened_at is not None:
            counter.sessions.append(Session(counter.spec.id, counter.opened_at, at))
        counter.opened_at = None
        counter.in_session = False

    def try_call(counter: _Counter, at: datetime) -> None:
        if counter.busy or not counter.in_session:
            return
        chosen = None
        for category_id in counter.spec.categories:
            chosen = head(category_id)
            if chosen is not None:
                break
        if chosen is None:
            if counter.final:
                close_session(counter, at)
            return
        heapq.heappop(queues[chosen.category_id])
        chosen.waiting = False
        chosen.called_at = at
        chosen.counter_id = counter.spec.id
        if rng.random() < model.no_show:
            chosen.outcome = "no_show"
            minutes = rng.uniform(*model.no_show_minutes)
        else:
            minutes = service_minutes(chosen, counter, at)
        chosen.finished_at = at + timedelta(seconds=round(minutes * 60.0))
        counter.busy = True
        push(chosen.finished_at, "free", counter)

    while events:
        at, _, kind, payload = heapq.heappop(events)
        if kind == "arrive":
            assert isinstance(payload, _Ticket)
            heapq.heappush(
                queues[payload.category_id], (payload.rank, payload.issued_at, payload.id, payload)
            )
            for counter in counters:
                if (
                    payload.category_id in counter.spec.categories
                    and counter.in_session
                    and not counter.busy
                ):
                    try_call(counter, at)
                    break
        elif kind == "abandon":
            assert isinstance(payload, _Ticket)
            if payload.waiting:
                payload.waiting = False
                payload.outcome = "cancelled"
                payload.finished_at = at
        else:
            assert isinstance(payload, _Counter)
            counter = payload
            if kind == "open":
                counter.in_session = True
                counter.opened_at = at
                try_call(counter, at)
            elif kind == "close":
                close_session(counter, at)
            elif kind == "close_final":
                counter.final = True
                if not counter.busy:
                    try_call(counter, at)
            elif kind == "free":
                counter.busy = False
                if counter.in_session:
                    try_call(counter, at)
    # Visitors still waiting at the very end (nobody serves their category) are closed out.
    for ticket in tickets:
        if ticket.waiting:
            ticket.waiting = False
            ticket.outcome = "cancelled"
            ticket.finished_at = close + timedelta(hours=1)
    records = tuple(_record(t) for t in tickets)
    sessions = tuple(
        sorted((s for c in counters for s in c.sessions), key=lambda s: (s.open_at, s.counter_id))
    )
    return SimulatedDay(truth, records, sessions)


def _whole(moment: datetime) -> datetime:
    """Times in the log have whole seconds; keeping them so makes a CSV round trip exact."""
    return moment.replace(microsecond=0)


def _record(ticket: _Ticket) -> TicketRecord:
    started = (
        ticket.called_at + timedelta(seconds=30)
        if ticket.outcome == "done" and ticket.called_at
        else None
    )
    if started is not None and ticket.finished_at is not None and started > ticket.finished_at:
        started = ticket.finished_at
    return TicketRecord(
        ticket_id=ticket.id,
        category_id=ticket.category_id,
        priority=_RANK_NAMES[ticket.rank],
        issued_at=ticket.issued_at,
        called_at=ticket.called_at,
        started_at=started,
        finished_at=ticket.finished_at,
        counter_id=ticket.counter_id,
        outcome=ticket.outcome,
    )


def open_days(start: date, count: int, is_open: Iterable[date] | None = None) -> list[date]:
    """`count` weekdays from `start` on (the simulator ignores holidays unless given them)."""
    allowed = set(is_open) if is_open is not None else None
    out: list[date] = []
    day = start
    while len(out) < count:
        if day.weekday() < 5 and (allowed is None or day in allowed):
            out.append(day)
        day += timedelta(days=1)
    return out


def simulate_days(model: CityHallModel, days: Iterable[date], seed: int) -> list[SimulatedDay]:
    """Several days, each from its own seed derived from `seed` and the date."""
    return [simulate_day(model, day, seed * 100_003 + day.toordinal()) for day in days]
