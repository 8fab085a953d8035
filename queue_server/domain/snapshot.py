"""Today's view for the estimator: what earlier days taught (`History`) applied to the queue now.

`build_snapshot` turns the learnt history, today's facts so far, the counters and the waiting
tickets into the `QueueSnapshot` the estimator simulates from: service models that follow today's
drift, each counter's speed, demand scaled by today's pace, no-show costs, pauses and patience.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from queue_server.domain.estimate import (
    ArrivalForecast,
    CounterSnapshot,
    LogNormal,
    Patience,
    PauseForecast,
    QueueSnapshot,
)
from queue_server.domain.facts import Arrival, Facts, ServiceSample
from queue_server.domain.learning import (
    CLIP,
    DEFAULT_PAUSE,
    NO_SHOW_MINUTES_WEIGHT,
    NO_SHOW_WEIGHT,
    SLOT_MINUTES,
    History,
    abandon_counts,
    day_slot,
    log_minutes,
    patience,
    robust_keep,
)

_FORECAST_SLOTS = 16  # eight hours ahead is beyond any realistic wait
_PRIOR_WEIGHT = 8.0  # the prior counts as this many of today's services
_DRIFT_MINUTES = 120.0  # today's samples lose weight with this time constant
_LEVEL_PSEUDO = 8.0  # expected arrivals that anchor today's demand level to the history
_DEFAULT_SIGMA = 0.5


@dataclass(frozen=True)
class CounterState:
    """A counter as the office sees it now; `build_snapshot` turns it into the estimator's view.

    `since` is when the current state began (for a pause, its start). A closed counter that is
    expected to open later today (a roster, or its usual opening in the backtest) has `opens_in`.
    """

    id: str
    categories: tuple[str, ...]
    state: str  # "open", "paused" or "closed"
    since: datetime | None = None
    busy_category: str | None = None
    busy_since: datetime | None = None
    opens_in: float | None = None


def _speed_offset(history: History, counter_id: str | None, category_id: str) -> float:
    key = counter_id or ""
    return history.counter_offsets.get(key, 0.0) + history.skill_offsets.get(key, {}).get(
        category_id, 0.0
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
            log_minutes(s.minutes)
            - history.hour_offsets.get(hour, 0.0)
            - _speed_offset(history, s.counter_id, s.category_id)
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
            keep = robust_keep([v for v, _ in rows])
            rows = [r for r, k in zip(rows, keep, strict=True) if k]
        else:
            # too few of today's to judge each other: judge them against the prior
            spread = CLIP * prior.sigma
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


def skill_factors(history: History) -> dict[str, dict[str, float]]:
    """Speed of each counter on each procedure it has served, relative to the average."""
    return {
        counter: {
            c: math.exp(history.counter_offsets.get(counter, 0.0) + v) for c, v in row.items()
        }
        for counter, row in history.skill_offsets.items()
    }


def forecast_arrivals(
    now: datetime,
    zone: ZoneInfo,
    history: History,
    today: Sequence[Arrival],
    day_start: datetime,
    categories: Sequence[str],
) -> ArrivalForecast:
    """Entries per minute for the coming slots: the history profile times today's level."""
    slot_now, first = day_slot(now, zone)
    start_slot, _ = day_slot(day_start, zone)
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


def no_show_rates(history: History, today: Facts, categories: Sequence[str]) -> dict[str, float]:
    """Share of calls that find nobody, per category (today's, anchored on earlier days)."""
    out = {}
    for c in categories:
        calls = today.calls.get(c, 0)
        missed = today.no_shows.get(c, 0)
        prior = history.no_show_rates.get(c, history.no_show_rate)
        out[c] = (missed + prior * NO_SHOW_WEIGHT) / (calls + NO_SHOW_WEIGHT)
    return out


def no_show_minutes(history: History, today: Facts) -> float:
    """Counter minutes a no-show costs: today's measurements, anchored on earlier days."""
    missed = sum(today.no_shows.values())
    return (today.no_show_minutes + history.no_show_minutes * NO_SHOW_MINUTES_WEIGHT) / (
        missed + NO_SHOW_MINUTES_WEIGHT
    )


def paused_return(history: History, paused_at: datetime, now: datetime, zone: ZoneInfo) -> float:
    """Minutes until a counter paused at `paused_at` is expected back (a point value)."""
    typical = history.pause_minutes.get(paused_at.astimezone(zone).hour, DEFAULT_PAUSE)
    paused_for = (now - paused_at).total_seconds() / 60.0
    return max(typical - paused_for, 3.0)


def pause_model(history: History, paused_at: datetime, zone: ZoneInfo) -> LogNormal:
    """The length of a pause that began at `paused_at`, as a distribution."""
    typical = history.pause_minutes.get(paused_at.astimezone(zone).hour, DEFAULT_PAUSE)
    return LogNormal.from_mean(typical, history.pause_sigma)


def counter_snapshot(
    counter: CounterState, history: History, now: datetime, zone: ZoneInfo
) -> CounterSnapshot:
    """The estimator's view of a counter: a paused one comes back after a learnt pause length."""
    if counter.state == "open":
        return CounterSnapshot(
            counter.id, counter.categories, True, counter.busy_category, counter.busy_since
        )
    if counter.state == "paused" and counter.since is not None:
        return CounterSnapshot(
            counter.id,
            counter.categories,
            False,
            returns_in=paused_return(history, counter.since, now, zone),
            return_model=pause_model(history, counter.since, zone),
            paused_for=max((now - counter.since).total_seconds() / 60.0, 0.0),
        )
    return CounterSnapshot(counter.id, counter.categories, False, returns_in=counter.opens_in)


def forecast_pauses(history: History, now: datetime, zone: ZoneInfo) -> PauseForecast | None:
    """Breaks open counters are expected to take from now on, hour by hour."""
    if not history.pause_rates:
        return None
    local = now.astimezone(zone)
    first = 60.0 - local.minute - local.second / 60.0
    hours = [(local.hour + i) % 24 for i in range(_FORECAST_SLOTS)]
    return PauseForecast(
        rates=tuple(history.pause_rates.get(h, 0.0) for h in hours),
        lengths=tuple(
            LogNormal.from_mean(history.pause_minutes.get(h, DEFAULT_PAUSE), history.pause_sigma)
            for h in hours
        ),
        first_slot=first,
    )


def _waiting_patience(history: History, today: Facts, waited: Iterable[float]) -> Patience | None:
    """The give-up hazard from earlier days plus today's stays (including those still waiting)."""
    events, exposure = abandon_counts(
        [*(w.minutes for w in today.waits), *waited], (a.minutes for a in today.abandonments)
    )
    if history.abandon_events:
        events = [a + b for a, b in zip(events, history.abandon_events, strict=True)]
        exposure = [a + b for a, b in zip(exposure, history.abandon_exposure, strict=True)]
    return patience(events, exposure)


def build_snapshot(
    *,
    now: datetime,
    zone: ZoneInfo,
    priors: Mapping[str, float],
    counters: Sequence[CounterState],
    waiting: Mapping[str, Sequence[tuple[int, datetime]]],
    history: History,
    today: Facts,
    day_start: datetime,
) -> QueueSnapshot:
    """The estimator's input from today's facts and what earlier days taught.

    `today` holds the facts from the start of the business day up to now (the ticket just
    issued included); `waiting` gives, per category and in call order, each waiting ticket's
    priority rank and when it entered the queue.
    """
    categories = tuple(priors)
    models = learn_service_models(now, zone, priors, history, today.services)
    views = tuple(counter_snapshot(c, history, now, zone) for c in counters)
    ranks: dict[str, tuple[int, ...]] = {}
    waited: dict[str, tuple[float, ...]] = {}
    for c in categories:
        rows = waiting.get(c, ())
        ranks[c] = tuple(rank for rank, _ in rows)
        waited[c] = tuple(max((now - queued).total_seconds() / 60.0, 0.0) for _, queued in rows)
    return QueueSnapshot(
        now=now,
        waiting={c: len(ranks[c]) for c in categories},
        counters=views,
        service_minutes={c: m.mean for c, m in models.items()},
        categories=categories,
        waiting_priorities=ranks,
        service_models=models,
        counter_factors=counter_factors(history, today.services),
        arrivals=forecast_arrivals(now, zone, history, today.arrivals, day_start, categories),
        no_show_rates=no_show_rates(history, today, categories),
        no_show_minutes=no_show_minutes(history, today),
        waiting_minutes=waited,
        patience=_waiting_patience(history, today, (w for row in waited.values() for w in row)),
        skill_factors=skill_factors(history),
        pauses=forecast_pauses(history, now, zone),
        long_services=(history.long_share, history.long_factor),
    )
