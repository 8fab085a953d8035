"""What earlier days teach the wait estimator: `learn_history` turns `Facts` into a `History`.

Service times are modelled as lognormal per procedure. Learning happens in log space, where a
forgotten "finish" button (a 90-minute service) is one large number among many and is clipped at
a few robust deviations from the median instead of dragging a mean. Earlier days give a prior,
an hour-of-day profile and each counter's speed, overall and per procedure (clerks are not
equally quick at everything). Demand is a per-procedure arrival profile. No-shows (how often, and
how much counter time each costs), pause lengths and rates, and visitors giving up while they
wait are measured, not assumed. `snapshot.build_snapshot` applies the history to today.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

from queue_server.domain.estimate import (
    LogNormal,
    Patience,
)
from queue_server.domain.facts import Facts, Pause, ServiceSample

SLOT_MINUTES = 30.0
_SLOTS_PER_DAY = int(24 * 60 / SLOT_MINUTES)
_COUNTER_SHRINK = 15.0  # a counter's speed needs this many services to count fully
_HOUR_SHRINK = 30.0
CLIP = 3.0  # robust deviations (MAD-based) beyond which a log sample is set aside
_NO_SHOW_PRIOR = 0.05
NO_SHOW_WEIGHT = 20.0
_NO_SHOW_MINUTES = 1.5  # counter time of a no-show until one is measured
NO_SHOW_MINUTES_WEIGHT = 5.0
DEFAULT_PAUSE = 30.0
_LONG_CAP = 10.0  # a "service" longer than this many usual ones is a button never pressed
_LONG_PSEUDO = 50.0
_PAUSE_PSEUDO = 3.0
_PAUSE_SIGMA = 0.5
#: Waited-minute bins of the give-up hazard: finer where most visitors are, coarse in the tail.
ABANDON_BOUNDS = (10.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, math.inf)
#: Waiting minutes of pseudo-exposure per bin with no give-ups: little data means little hazard.
_ABANDON_PSEUDO = 600.0


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


def robust_keep(values: Sequence[float]) -> list[bool]:
    """Which log samples to learn from: those within a few robust deviations of the median.

    Farther ones are nearly always a button pressed late or never (a 3-hour "service"); kept,
    even clipped, they would still inflate the spread and so every interval.
    """
    if len(values) < 5:
        return [True] * len(values)
    center = median(values)
    spread = max(1.4826 * median(abs(v - center) for v in values), 0.05)
    return [abs(v - center) <= CLIP * spread for v in values]


def log_minutes(minutes: float) -> float:
    return math.log(max(minutes, 0.1))


def day_slot(moment: datetime, zone: ZoneInfo) -> tuple[int, float]:
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
        by_category[s.category_id].append((log_minutes(s.minutes), hour, s.counter_id))
    service: dict[str, LogNormal] = {}
    counts: dict[str, int] = {}
    residuals: list[tuple[float, int, str | None, str]] = []
    for category_id, all_rows in by_category.items():
        keep = robust_keep([r[0] for r in all_rows])
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
        by_category[s.category_id].append(log_minutes(s.minutes))
    total = 0
    ratios: list[float] = []
    for logs in by_category.values():
        keep = robust_keep(logs)
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
    anchor = (overall * len(pauses) + DEFAULT_PAUSE * _PAUSE_PSEUDO) / (len(pauses) + _PAUSE_PSEUDO)
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


def abandon_counts(
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
        slot, _ = day_slot(a.at, zone)
        totals[a.category_id][slot] += 1.0
        ranks[a.category_id][min(max(a.priority_rank, 0), 2)] += 1.0
    days = max(facts.days, 1)
    profile = {c: tuple(v / (days * SLOT_MINUTES) for v in row) for c, row in totals.items()}
    shares = {}
    for c, row in ranks.items():
        n = sum(row) + 1.0  # one pseudo normal ticket keeps shares defined
        shares[c] = (row[0] / n, row[1] / n, (row[2] + 1.0) / n)

    calls, missed = sum(facts.calls.values()), sum(facts.no_shows.values())
    rate = (missed + _NO_SHOW_PRIOR * NO_SHOW_WEIGHT) / (calls + NO_SHOW_WEIGHT)
    # each category's own share, anchored on the office-wide one
    rates = {
        c: (facts.no_shows.get(c, 0) + rate * NO_SHOW_WEIGHT) / (n + NO_SHOW_WEIGHT)
        for c, n in facts.calls.items()
        if c
    }
    lost = (facts.no_show_minutes + _NO_SHOW_MINUTES * NO_SHOW_MINUTES_WEIGHT) / (
        missed + NO_SHOW_MINUTES_WEIGHT
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
    events, exposure = abandon_counts(
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
