"""What the wait estimator learns from the event rows, and the snapshot it is given.

The live server (from SQL, `queue_server.adapters.sql_history.read_facts`) and the backtest (from
a ticket log, `queue_server.backtest.replay.log_facts`) collect the same raw `Facts` over a span —
finished services, queue entries and stays, calls and no-shows, abandonments, counter pauses —
and hand them to `learn_history` (earlier days) and `build_snapshot` (today), so both run exactly
the same learning and the same estimator.

Service times are modelled as lognormal per procedure. Learning happens in log space, where a
forgotten "finish" button (a 90-minute service) is one large number among many and is clipped at
a few robust deviations from the median instead of dragging a mean. Earlier days give a prior,
an hour-of-day profile and each counter's speed, overall and per procedure (clerks are not
equally quick at everything); today's services move the estimate with weights that fade over two
hours, so drift during the day is followed. Demand is a per-procedure arrival profile from
earlier days, scaled by how busy today has been so far. No-shows (how often, and how much counter
time each costs), pause lengths and visitors giving up while they wait are measured, not assumed.
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
    Patience,
    PauseForecast,
    QueueSnapshot,
)

#: Calendar days of history the estimator learns from (four weeks: every weekday four times).
HISTORY_DAYS = 28
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
_NO_SHOW_MINUTES = 1.5  # counter time of a no-show until one is measured
_NO_SHOW_MINUTES_WEIGHT = 5.0
_LEVEL_PSEUDO = 8.0  # expected arrivals that anchor today's demand level to the history
_DEFAULT_PAUSE = 30.0
_LONG_CAP = 10.0  # a "service" longer than this many usual ones is a button never pressed
_LONG_PSEUDO = 50.0
_PAUSE_PSEUDO = 3.0
_PAUSE_SIGMA = 0.5
#: Waited-minute bins of the give-up hazard: finer where most visitors are, coarse in the tail.
ABANDON_BOUNDS = (10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, math.inf)
#: Waiting minutes of pseudo-exposure per bin with no give-ups: little data means little hazard.
_ABANDON_PSEUDO = 600.0


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


@dataclass(frozen=True)
class History:
    """What earlier days teach; fixed for the whole of one business day."""

    service: Mapping[str, LogNormal] = field(default_factory=dict)
    service_counts: Mapping[str, int] = field(default_factory=dict)
    hour_offsets: Mapping[int, float] = field(default_factory=dict)  # log-minutes by local hour
    counter_offsets: Mapping[str, float] = field(default_factory=dict)  # log speed by counter
    # log speed of a counter on one procedure beyond its overall speed: counter -> category ->
    skill_offsets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # mean entries per minute, per category and 30-minute slot of the local day
    profile: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    priority_shares: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    no_show_rate: float = _NO_SHOW_PRIOR
    no_show_rates: Mapping[str, float] = field(default_factory=dict)
    no_show_minutes: float = _NO_SHOW_MINUTES
    days: int = 0
    # mean length of a counter's pause by the local hour it began (lunch is long, others short)
    pause_minutes: Mapping[int, float] = field(default_factory=dict)
    pause_sigma: float = _PAUSE_SIGMA  # spread (log) of pause lengths around that mean
    # share of services that are long complex cases, and their length in usual services
    long_share: float = 0.0
    long_factor: float = 1.0
    # pauses begun per counter-minute, by local hour (a counter-day counts as 60 min per hour)
    pause_rates: Mapping[int, float] = field(default_factory=dict)
    # give-ups per waited-minute bin (ABANDON_BOUNDS): events and waiting minutes exposed
    abandon_events: tuple[float, ...] = ()
    abandon_exposure: tuple[float, ...] = ()


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


def _shrunk_mean(values: Sequence[float], shrink: float) -> float:
    return sum(values) / (len(values) + shrink)


def _learn_service(
    samples: Iterable[ServiceSample], zone: ZoneInfo
) -> tuple[
    dict[str, LogNormal],
    dict[str, int],
    dict[int, float],
    dict[str, float],
    dict[str, dict[str, float]],
]:
    by_category: dict[str, list[tuple[float, int, str | None]]] = defaultdict(list)
    for s in samples:
        hour = s.at.astimezone(zone).hour
        by_category[s.category_id].append((_log(s.minutes), hour, s.counter_id))
    service: dict[str, LogNormal] = {}
    counts: dict[str, int] = {}
    residuals: list[tuple[float, int, str | None, str]] = []
    for category_id, all_rows in by_category.items():
        keep = _robust_keep([r[0] for r in all_rows])
        rows = [r for r, k in zip(all_rows, keep, strict=True) if k]
        by_category[category_id] = rows
        logs = [r[0] for r in rows]
        mu = sum(logs) / len(logs)
        var = sum((v - mu) ** 2 for v in logs) / max(len(logs) - 1, 1)
        service[category_id] = LogNormal(mu, max(math.sqrt(var), 0.05))
        counts[category_id] = len(logs)
        residuals.extend((v - mu, r[1], r[2], category_id) for v, r in zip(logs, rows, strict=True))
    by_hour: dict[int, list[float]] = defaultdict(list)
    for res, hour, _, _ in residuals:
        by_hour[hour].append(res)
    hour_offsets = {h: _shrunk_mean(v, _HOUR_SHRINK) for h, v in by_hour.items()}
    by_counter: dict[str, list[float]] = defaultdict(list)
    for res, hour, counter, _ in residuals:
        if counter is not None:
            by_counter[counter].append(res - hour_offsets.get(hour, 0.0))
    counter_offsets = {k: _shrunk_mean(v, _COUNTER_SHRINK) for k, v in by_counter.items()}
    by_skill: dict[tuple[str, str], list[float]] = defaultdict(list)
    for res, hour, counter, category_id in residuals:
        if counter is not None:
            rest = res - hour_offsets.get(hour, 0.0) - counter_offsets[counter]
            by_skill[(counter, category_id)].append(rest)
    skill_offsets: dict[str, dict[str, float]] = defaultdict(dict)
    for (counter, category_id), values in by_skill.items():
        skill_offsets[counter][category_id] = _shrunk_mean(values, _COUNTER_SHRINK)
    # The hour and counter effects were part of each category's mean: take them out again so
    # mu is the level of an average counter at an average hour.
    for category_id, rows in by_category.items():
        shift = sum(
            hour_offsets.get(h, 0.0)
            + counter_offsets.get(k or "", 0.0)
            + skill_offsets.get(k or "", {}).get(category_id, 0.0)
            for _, h, k in rows
        ) / len(rows)
        m = service[category_id]
        service[category_id] = LogNormal(m.mu - shift, m.sigma)
    return service, counts, hour_offsets, counter_offsets, dict(skill_offsets)


def _long_cases(samples: Iterable[ServiceSample]) -> tuple[float, float]:
    """Share of services far above their procedure's usual range, and how many times longer.

    They are set aside when learning the lognormal (a forgotten button would inflate every
    interval), but complex cases cost real counter time: the forward simulation draws them.
    """
    by_category: dict[str, list[float]] = defaultdict(list)
    for s in samples:
        by_category[s.category_id].append(_log(s.minutes))
    total = 0
    ratios: list[float] = []
    for logs in by_category.values():
        keep = _robust_keep(logs)
        kept = [v for v, k in zip(logs, keep, strict=True) if k]
        center = sum(kept) / len(kept)
        total += len(logs)
        ratios += [
            min(math.exp(v - center), _LONG_CAP)
            for v, k in zip(logs, keep, strict=True)
            if not k and v > center
        ]
    if not ratios:
        return 0.0, 1.0
    return len(ratios) / (total + _LONG_PSEUDO), sum(ratios) / len(ratios)


def _learn_pauses(pauses: Sequence[Pause], zone: ZoneInfo) -> tuple[dict[int, float], float]:
    if not pauses:
        return {}, _PAUSE_SIGMA
    overall = sum(p.minutes for p in pauses) / len(pauses)
    # few pauses say little: anchor on the default with a few pseudo-pauses
    anchor = (overall * len(pauses) + _DEFAULT_PAUSE * _PAUSE_PSEUDO) / (
        len(pauses) + _PAUSE_PSEUDO
    )
    rows: dict[int, list[float]] = defaultdict(list)
    for p in pauses:
        rows[p.at.astimezone(zone).hour].append(max(p.minutes, 0.5))
    by_hour = {
        h: (sum(v) + _PAUSE_PSEUDO * anchor) / (len(v) + _PAUSE_PSEUDO) for h, v in rows.items()
    }
    deviations = [
        math.log(max(p.minutes, 0.5) / by_hour[p.at.astimezone(zone).hour]) for p in pauses
    ]
    spread = math.sqrt(
        (sum(d * d for d in deviations) + _PAUSE_PSEUDO * _PAUSE_SIGMA**2)
        / (len(deviations) + _PAUSE_PSEUDO)
    )
    return by_hour, min(max(spread, 0.1), 1.5)


def _abandon_counts(
    waited: Iterable[float], gave_up: Iterable[float]
) -> tuple[list[float], list[float]]:
    """Give-ups and waiting minutes per bin, from completed and abandoned queue stays."""
    events = [0.0] * len(ABANDON_BOUNDS)
    exposure = [0.0] * len(ABANDON_BOUNDS)

    def expose(minutes: float) -> int:
        lower = 0.0
        for i, upper in enumerate(ABANDON_BOUNDS):
            if minutes <= upper:
                exposure[i] += max(minutes - lower, 0.0)
                return i
            exposure[i] += upper - lower
            lower = upper
        return len(ABANDON_BOUNDS) - 1  # not reached: the last bound is infinite

    for minutes in waited:
        expose(minutes)
    for minutes in gave_up:
        events[expose(minutes)] += 1.0
    return events, exposure


def patience(events: Sequence[float], exposure: Sequence[float]) -> Patience | None:
    """The give-up hazard per waited-minute bin; None when nobody has been seen to give up."""
    if not any(events):
        return None
    rates = tuple(e / (x + _ABANDON_PSEUDO) for e, x in zip(events, exposure, strict=True))
    return Patience(ABANDON_BOUNDS, rates)


def learn_history(facts: Facts, zone: ZoneInfo) -> History:
    """What earlier days teach, from their `Facts`."""
    return _learn_history(facts, zone)


def _learn_history(facts: Facts, zone: ZoneInfo) -> History:
    service, counts, hour_offsets, counter_offsets, skill_offsets = _learn_service(
        facts.services, zone
    )
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0] * _SLOTS_PER_DAY)
    ranks: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for a in facts.arrivals:
        slot, _ = _slot(a.at, zone)
        totals[a.category_id][slot] += 1.0
        ranks[a.category_id][min(max(a.priority_rank, 0), 2)] += 1.0
    days = max(facts.days, 1)
    profile = {c: tuple(v / (days * SLOT_MINUTES) for v in row) for c, row in totals.items()}
    shares = {}
    for c, row in ranks.items():
        n = sum(row) + 1.0  # one pseudo normal ticket keeps shares defined
        shares[c] = (row[0] / n, row[1] / n, (row[2] + 1.0) / n)

    calls, missed = sum(facts.calls.values()), sum(facts.no_shows.values())
    rate = (missed + _NO_SHOW_PRIOR * _NO_SHOW_WEIGHT) / (calls + _NO_SHOW_WEIGHT)
    # each category's own share, anchored on the office-wide one
    rates = {
        c: (facts.no_shows.get(c, 0) + rate * _NO_SHOW_WEIGHT) / (n + _NO_SHOW_WEIGHT)
        for c, n in facts.calls.items()
        if c
    }
    lost = (facts.no_show_minutes + _NO_SHOW_MINUTES * _NO_SHOW_MINUTES_WEIGHT) / (
        missed + _NO_SHOW_MINUTES_WEIGHT
    )
    pause_minutes, pause_sigma = _learn_pauses(facts.pauses, zone)
    long_share, long_factor = _long_cases(facts.services)
    # Counters that served on a day were staffed that day: the exposure for pause rates.
    counter_days = len(
        {(s.counter_id, s.at.astimezone(zone).date()) for s in facts.services if s.counter_id}
    )
    starts: dict[int, int] = defaultdict(int)
    for p in facts.pauses:
        starts[p.at.astimezone(zone).hour] += 1
    pause_rates = {h: n / (counter_days * 60.0) for h, n in starts.items()} if counter_days else {}
    events, exposure = _abandon_counts(
        (w.minutes for w in facts.waits), (a.minutes for a in facts.abandonments)
    )
    return History(
        service=service,
        service_counts=counts,
        hour_offsets=hour_offsets,
        counter_offsets=counter_offsets,
        skill_offsets=skill_offsets,
        profile=profile,
        priority_shares=shares,
        no_show_rate=rate,
        no_show_rates=rates,
        no_show_minutes=lost,
        days=facts.days,
        pause_minutes=pause_minutes,
        pause_sigma=pause_sigma,
        pause_rates=pause_rates,
        long_share=long_share,
        long_factor=long_factor,
        abandon_events=tuple(events),
        abandon_exposure=tuple(exposure),
    )


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
            _log(s.minutes)
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


def no_show_rates(history: History, today: Facts, categories: Sequence[str]) -> dict[str, float]:
    """Share of calls that find nobody, per category (today's, anchored on earlier days)."""
    out = {}
    for c in categories:
        calls = today.calls.get(c, 0)
        missed = today.no_shows.get(c, 0)
        prior = history.no_show_rates.get(c, history.no_show_rate)
        out[c] = (missed + prior * _NO_SHOW_WEIGHT) / (calls + _NO_SHOW_WEIGHT)
    return out


def no_show_minutes(history: History, today: Facts) -> float:
    """Counter minutes a no-show costs: today's measurements, anchored on earlier days."""
    missed = sum(today.no_shows.values())
    return (today.no_show_minutes + history.no_show_minutes * _NO_SHOW_MINUTES_WEIGHT) / (
        missed + _NO_SHOW_MINUTES_WEIGHT
    )


def paused_return(history: History, paused_at: datetime, now: datetime, zone: ZoneInfo) -> float:
    """Minutes until a counter paused at `paused_at` is expected back (a point value)."""
    typical = history.pause_minutes.get(paused_at.astimezone(zone).hour, _DEFAULT_PAUSE)
    paused_for = (now - paused_at).total_seconds() / 60.0
    return max(typical - paused_for, 3.0)


def pause_model(history: History, paused_at: datetime, zone: ZoneInfo) -> LogNormal:
    """The length of a pause that began at `paused_at`, as a distribution."""
    typical = history.pause_minutes.get(paused_at.astimezone(zone).hour, _DEFAULT_PAUSE)
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
            LogNormal.from_mean(history.pause_minutes.get(h, _DEFAULT_PAUSE), history.pause_sigma)
            for h in hours
        ),
        first_slot=first,
    )


def _waiting_patience(history: History, today: Facts, waited: Iterable[float]) -> Patience | None:
    """The give-up hazard from earlier days plus today's stays (including those still waiting)."""
    events, exposure = _abandon_counts(
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


def day_start_of(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight of the business day `moment` belongs to."""
    local = moment.astimezone(zone)
    return datetime(local.year, local.month, local.day, tzinfo=zone)


def history_window(day_start: datetime, days: int = HISTORY_DAYS) -> tuple[datetime, datetime]:
    """The span earlier days are learnt from: `days` calendar days up to `day_start`."""
    return day_start - timedelta(days=days), day_start
