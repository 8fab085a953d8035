"""What the wait estimator learns from the event rows, and the snapshot it is given.

The live server (from SQL) and the backtest (from a ticket log) collect the same raw facts —
finished services, queue entries, calls and no-shows, counter states — and hand them to
`build_snapshot`, so both run exactly the same learning and the same estimator.

Service times are modelled as lognormal per procedure. Learning happens in log space, where a
forgotten "finish" button (a 90-minute service) is one large number among many and is clipped at
a few robust deviations from the median instead of dragging a mean. Earlier days give a prior,
an hour-of-day profile and each counter's speed; today's services move the estimate with weights
that fade over two hours, so drift during the day is followed. Demand is a per-procedure
arrival profile from earlier days, scaled by how busy today has been so far.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from queue_server.domain.estimate import (
    ArrivalForecast,
    CounterSnapshot,
    LogNormal,
    QueueSnapshot,
)

SLOT_MINUTES = 30.0
_SLOTS_PER_DAY = int(24 * 60 / SLOT_MINUTES)
_FORECAST_SLOTS = 16  # eight hours ahead is beyond any realistic wait
_PRIOR_WEIGHT = 8.0  # the prior counts as this many of today's services
_DRIFT_MINUTES = 120.0  # today's samples lose weight with this time constant
_COUNTER_SHRINK = 15.0  # a counter's speed needs this many services to count fully
_HOUR_SHRINK = 30.0
_CLIP = 3.0  # robust deviations (MAD-based) beyond which a log sample is set aside
_DEFAULT_SIGMA = 0.5
_NO_SHOW_PRIOR = 0.05
_NO_SHOW_WEIGHT = 20.0
_LEVEL_PSEUDO = 8.0
_DEFAULT_PAUSE = 30.0  # expected arrivals that anchor today's demand level to the history


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
class History:
    """What earlier days teach; fixed for the whole of one business day."""

    service: Mapping[str, LogNormal] = field(default_factory=dict)
    service_counts: Mapping[str, int] = field(default_factory=dict)
    hour_offsets: Mapping[int, float] = field(default_factory=dict)  # log-minutes by local hour
    counter_offsets: Mapping[str, float] = field(default_factory=dict)  # log speed by counter
    # mean entries per minute, per category and 30-minute slot of the local day
    profile: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    priority_shares: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    no_show_rate: float = _NO_SHOW_PRIOR
    no_show_minutes: float = 1.5
    days: int = 0
    # mean length of a counter's pause by the local hour it began (lunch is long, others short)
    pause_minutes: Mapping[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TodayCounts:
    """Today's calls that are resolved (served or no-show) and the no-shows among them."""

    calls: Mapping[str, int] = field(default_factory=dict)
    no_shows: Mapping[str, int] = field(default_factory=dict)


def _robust_keep(values: Sequence[float]) -> list[bool]:
    """Which log samples to learn from: those within a few robust deviations of the median.

    Farther ones are nearly always a button pressed late or never (a 3-hour "service"); kept,
    even clipped, they would still inflate the spread and so every interval.
    """
    if len(values) < 5:
        return [True] * len(values)
    center = median(values)
    spread = max(1.4826 * median(abs(v - center) for v in values), 0.05)
    return [abs(v - center) <= _CLIP * spread for v in values]


def _log(minutes: float) -> float:
    return math.log(max(minutes, 0.1))


def _slot(moment: datetime, zone: ZoneInfo) -> tuple[int, float]:
    """Slot of the local day `moment` falls in, and minutes until that slot ends."""
    local = moment.astimezone(zone)
    minute = local.hour * 60 + local.minute + local.second / 60.0
    slot = int(minute // SLOT_MINUTES)
    return slot, (slot + 1) * SLOT_MINUTES - minute


def learn_history(
    samples: Iterable[ServiceSample],
    arrivals: Iterable[Arrival],
    days: int,
    zone: ZoneInfo,
    no_shows: tuple[int, int, float] = (0, 0, 0.0),
    pauses: Iterable[tuple[datetime, float]] = (),
) -> History:
    """Learn priors from earlier days: `days` open days, their services and queue entries.

    `no_shows` is (calls, no-shows, total counter minutes lost to no-shows).
    """
    by_category: dict[str, list[tuple[float, int, str | None]]] = defaultdict(list)
    for s in samples:
        hour = s.at.astimezone(zone).hour
        by_category[s.category_id].append((_log(s.minutes), hour, s.counter_id))
    service: dict[str, LogNormal] = {}
    counts: dict[str, int] = {}
    residuals: list[tuple[float, int, str | None]] = []
    for category_id, all_rows in by_category.items():
        keep = _robust_keep([r[0] for r in all_rows])
        rows = [r for r, k in zip(all_rows, keep, strict=True) if k]
        by_category[category_id] = rows
        logs = [r[0] for r in rows]
        mu = sum(logs) / len(logs)
        var = sum((v - mu) ** 2 for v in logs) / max(len(logs) - 1, 1)
        service[category_id] = LogNormal(mu, max(math.sqrt(var), 0.05))
        counts[category_id] = len(logs)
        residuals.extend((v - mu, r[1], r[2]) for v, r in zip(logs, rows, strict=True))
    by_hour: dict[int, list[float]] = defaultdict(list)
    for res, hour, _ in residuals:
        by_hour[hour].append(res)
    hour_offsets = {h: sum(v) / (len(v) + _HOUR_SHRINK) for h, v in by_hour.items()}
    by_counter: dict[str, list[float]] = defaultdict(list)
    for res, hour, counter in residuals:
        if counter is not None:
            by_counter[counter].append(res - hour_offsets.get(hour, 0.0))
    counter_offsets = {k: sum(v) / (len(v) + _COUNTER_SHRINK) for k, v in by_counter.items()}
    # The hour and counter effects were part of each category's mean: take them out again so
    # mu is the level of an average counter at an average hour.
    for category_id, rows in by_category.items():
        shift = sum(
            hour_offsets.get(h, 0.0) + counter_offsets.get(k or "", 0.0) for _, h, k in rows
        ) / len(rows)
        m = service[category_id]
        service[category_id] = LogNormal(m.mu - shift, m.sigma)

    totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * _SLOTS_PER_DAY)
    ranks: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for a in arrivals:
        slot, _ = _slot(a.at, zone)
        totals[a.category_id][slot] += 1.0
        ranks[a.category_id][min(max(a.priority_rank, 0), 2)] += 1.0
    open_days = max(days, 1)
    profile = {c: tuple(v / (open_days * SLOT_MINUTES) for v in row) for c, row in totals.items()}
    shares = {}
    for c, row in ranks.items():
        n = sum(row) + 1.0  # one pseudo normal ticket keeps shares defined
        shares[c] = (row[0] / n, row[1] / n, (row[2] + 1.0) / n)
    pause_rows: dict[int, list[float]] = defaultdict(list)
    for began, minutes in pauses:
        pause_rows[began.astimezone(zone).hour].append(minutes)
    # a few pauses of one hour say little: anchor on the default with three pseudo-pauses
    pause_minutes = {h: (sum(v) + 3 * _DEFAULT_PAUSE) / (len(v) + 3) for h, v in pause_rows.items()}
    calls, missed, lost = no_shows
    rate = (missed + _NO_SHOW_PRIOR * _NO_SHOW_WEIGHT) / (calls + _NO_SHOW_WEIGHT)
    return History(
        service=service,
        service_counts=counts,
        hour_offsets=hour_offsets,
        counter_offsets=counter_offsets,
        profile=profile,
        priority_shares=shares,
        no_show_rate=rate,
        no_show_minutes=lost / missed if missed else 1.5,
        days=days,
        pause_minutes=pause_minutes,
    )


def learn_service_models(
    now: datetime,
    zone: ZoneInfo,
    priors: Mapping[str, float],
    history: History,
    today: Iterable[ServiceSample],
) -> dict[str, LogNormal]:
    """Per category, the lognormal of a service starting now at an average counter."""
    hour_now = now.astimezone(zone).hour
    by_category: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s in today:
        age = max((now - s.at).total_seconds() / 60.0, 0.0)
        hour = s.at.astimezone(zone).hour
        adjusted = (
            _log(s.minutes)
            - history.hour_offsets.get(hour, 0.0)
            - history.counter_offsets.get(s.counter_id or "", 0.0)
        )
        by_category[s.category_id].append((adjusted, math.exp(-age / _DRIFT_MINUTES)))
    models: dict[str, LogNormal] = {}
    for category_id, prior_mean in priors.items():
        prior = history.service.get(category_id)
        if prior is None:
            prior = LogNormal.from_mean(prior_mean, _DEFAULT_SIGMA)
            prior_weight = _PRIOR_WEIGHT / 2.0  # a configured guess is weaker than data
        else:
            prior_weight = _PRIOR_WEIGHT
        rows = by_category.get(category_id, [])
        if len(rows) >= 5:
            keep = _robust_keep([v for v, _ in rows])
            rows = [r for r, k in zip(rows, keep, strict=True) if k]
        else:
            # too few of today's to judge each other: judge them against the prior
            spread = _CLIP * prior.sigma
            rows = [(v, w) for v, w in rows if abs(v - prior.mu) <= spread]
        values = [v for v, _ in rows]
        weights = [w for _, w in rows]
        total = prior_weight + sum(weights)
        mu = prior_weight * prior.mu + sum(w * v for v, w in zip(values, weights, strict=True))
        mu /= total
        var = prior_weight * prior.sigma**2 + sum(
            w * (v - mu) ** 2 for v, w in zip(values, weights, strict=True)
        )
        sigma = math.sqrt(var / total)
        models[category_id] = LogNormal(
            mu + history.hour_offsets.get(hour_now, 0.0), sigma, sigma / math.sqrt(total)
        )
    return models


def counter_factors(history: History, today: Iterable[ServiceSample]) -> dict[str, float]:
    """Speed of each counter (clerk) relative to the average, from earlier days."""
    # Today's residuals would need today's mu; earlier days carry most of the evidence.
    del today
    return {k: math.exp(v) for k, v in history.counter_offsets.items()}


def forecast_arrivals(
    now: datetime,
    zone: ZoneInfo,
    history: History,
    today: Sequence[Arrival],
    day_start: datetime,
    categories: Sequence[str],
) -> ArrivalForecast:
    """Entries per minute for the coming slots: the history profile times today's level."""
    slot_now, first = _slot(now, zone)
    start_slot, _ = _slot(day_start, zone)
    counts: dict[str, int] = defaultdict(int)
    for a in today:
        counts[a.category_id] += 1
    earliest = min((a.at for a in today), default=now)
    elapsed = (now - earliest).total_seconds() / 60.0
    expected: dict[str, float] = {}
    for c in categories:
        row = history.profile.get(c, ())
        total = 0.0
        for s in range(start_slot, slot_now + 1):
            if s < len(row):
                minutes = SLOT_MINUTES if s < slot_now else SLOT_MINUTES - first
                total += row[s] * minutes
        expected[c] = total
    seen, hoped = float(sum(counts.values())), sum(expected.values())
    overall = (seen + _LEVEL_PSEUDO) / (hoped + _LEVEL_PSEUDO)
    rates: dict[str, tuple[float, ...]] = {}
    shares: dict[str, tuple[float, float, float]] = {}
    for c in categories:
        profile = history.profile.get(c)
        if profile is None or history.days == 0:
            # No earlier days: today's pace since the first ticket, flat.
            rate = counts[c] / max(elapsed, 30.0)
            rates[c] = (rate,)
        else:
            row = profile
            level = (counts[c] + _LEVEL_PSEUDO * overall) / (expected[c] + _LEVEL_PSEUDO)
            rates[c] = tuple(
                row[s] * level if s < len(row) else 0.0
                for s in range(slot_now, slot_now + _FORECAST_SLOTS)
            )
        shares[c] = history.priority_shares.get(c, (0.0, 0.0, 1.0))
    level_sd = 1.0 / math.sqrt(hoped + _LEVEL_PSEUDO)
    return ArrivalForecast(rates, shares, first, SLOT_MINUTES, level_sd)


def no_show_rates(
    history: History, today: TodayCounts, categories: Sequence[str]
) -> dict[str, float]:
    """Share of calls that find nobody, per category (today's, anchored on earlier days)."""
    out = {}
    for c in categories:
        calls = today.calls.get(c, 0)
        missed = today.no_shows.get(c, 0)
        out[c] = (missed + history.no_show_rate * _NO_SHOW_WEIGHT) / (calls + _NO_SHOW_WEIGHT)
    return out


def paused_return(history: History, paused_at: datetime, now: datetime, zone: ZoneInfo) -> float:
    """Minutes until a counter paused at `paused_at` is expected back."""
    typical = history.pause_minutes.get(paused_at.astimezone(zone).hour, _DEFAULT_PAUSE)
    paused_for = (now - paused_at).total_seconds() / 60.0
    return max(typical - paused_for, 3.0)


def build_snapshot(
    *,
    now: datetime,
    zone: ZoneInfo,
    priors: Mapping[str, float],
    counters: Sequence[CounterSnapshot],
    waiting: Mapping[str, Sequence[int]],
    history: History,
    services_today: Sequence[ServiceSample],
    arrivals_today: Sequence[Arrival],
    counts_today: TodayCounts,
    day_start: datetime,
) -> QueueSnapshot:
    """The estimator's input from today's facts and what earlier days taught."""
    categories = tuple(priors)
    models = learn_service_models(now, zone, priors, history, services_today)
    return QueueSnapshot(
        now=now,
        waiting={c: len(waiting.get(c, ())) for c in categories},
        counters=tuple(counters),
        service_minutes={c: m.mean for c, m in models.items()},
        categories=categories,
        waiting_priorities={c: tuple(waiting.get(c, ())) for c in categories},
        service_models=models,
        counter_factors=counter_factors(history, services_today),
        arrivals=forecast_arrivals(now, zone, history, arrivals_today, day_start, categories),
        no_show_rates=no_show_rates(history, counts_today, categories),
        no_show_minutes=history.no_show_minutes,
    )


def day_start_of(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight of the business day `moment` belongs to."""
    local = moment.astimezone(zone)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


def history_window(day_start: datetime, days: int = 28) -> tuple[datetime, datetime]:
    """The span earlier days are learnt from."""
    return day_start - timedelta(days=days), day_start
