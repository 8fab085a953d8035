"""Wait estimates: the seam every estimator implements, and the first estimator.

An estimator sees a `QueueSnapshot` (how many wait in each category, which counters are open and
what they are doing, learnt service times) and predicts, for each category, when the k-th waiting
ticket will be called, k = 0 .. waiting (the last one being a visitor who takes a ticket now).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class CounterSnapshot:
    """A counter as the estimator sees it."""

    id: str
    categories: tuple[str, ...]
    available: bool  # open (not paused or closed)
    busy_category: str | None = None  # category of the ticket at the counter, if any
    busy_since: datetime | None = None  # when that ticket was called
    # For an unavailable (paused) counter: minutes until it is expected back; None = not today.
    returns_in: float | None = None
    # A paused counter's pause length as a distribution, and how long it has lasted so far: the
    # forward simulation draws the return instead of trusting one point.
    return_model: LogNormal | None = None
    paused_for: float = 0.0


@dataclass(frozen=True)
class QueueSnapshot:
    now: datetime
    waiting: Mapping[str, int]  # category id -> tickets waiting
    counters: tuple[CounterSnapshot, ...]
    service_minutes: Mapping[str, float]  # category id -> mean counter time per ticket
    categories: tuple[str, ...] = ()
    # Optional inputs of the stochastic estimator (queue_server.domain.forecast). The first
    # estimator ignores them; the defaults keep every existing caller working.
    waiting_priorities: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    service_models: Mapping[str, LogNormal] = field(default_factory=dict)
    counter_factors: Mapping[str, float] = field(default_factory=dict)  # counter id -> speed
    arrivals: ArrivalForecast | None = None
    no_show_rates: Mapping[str, float] = field(default_factory=dict)  # share of calls
    no_show_minutes: float = 1.5  # counter time lost on a no-show (calling, recalling)
    # Minutes each waiting ticket has waited so far (same order as waiting_priorities), and the
    # learnt hazard of giving up: tickets ahead may leave before their call.
    waiting_minutes: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    patience: Patience | None = None
    # counter id -> category -> speed, where a clerk is quicker or slower at some procedures
    skill_factors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    pauses: PauseForecast | None = None  # breaks open counters will take (lunch, absences)
    # share of services that are long complex cases, and how many usual services each lasts
    long_services: tuple[float, float] = (0.0, 1.0)
    # Booked visits (来庁予約) not checked in yet: per category, minutes from now to each slot.
    # A category listed here takes its reservation arrivals from the bookings, not the forecast.
    scheduled: Mapping[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LogNormal:
    """Service minutes of one procedure: log-minutes ~ Normal(mu, sigma).

    `mu_sd` is the uncertainty of `mu` itself (few samples early in the day); the forward
    simulation draws mu per run so the interval widens while little is known.
    """

    mu: float
    sigma: float
    mu_sd: float = 0.0

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma * self.sigma / 2.0)

    @classmethod
    def from_mean(cls, mean: float, sigma: float = 0.5, mu_sd: float = 0.0) -> LogNormal:
        return cls(math.log(max(mean, 0.05)) - sigma * sigma / 2.0, sigma, mu_sd)


@dataclass(frozen=True)
class Patience:
    """How waiting visitors give up: a hazard (per minute) constant within waited-minute bins.

    Bin i covers waited minutes from bounds[i-1] (0 for the first) to bounds[i]; the last bound
    is infinite.
    """

    bounds: tuple[float, ...]
    rates: tuple[float, ...]

    def cumulative(self, minutes: float) -> float:
        """Integrated hazard from 0 to `minutes` waited."""
        total = 0.0
        lower = 0.0
        for upper, rate in zip(self.bounds, self.rates, strict=True):
            if minutes <= upper:
                return total + rate * (minutes - lower)
            total += rate * (upper - lower)
            lower = upper
        return total


@dataclass(frozen=True)
class PauseForecast:
    """How open counters go on breaks later: per counter-minute rates and lengths by time slot.

    Slot 0 lasts `first_slot` minutes from now, the others `slot_minutes`; the last slot's rate
    and length hold beyond the end.
    """

    rates: tuple[float, ...]
    lengths: tuple[LogNormal, ...]
    first_slot: float
    slot_minutes: float = 60.0


@dataclass(frozen=True)
class ArrivalForecast:
    """Expected new queue entries per minute, per category, in consecutive time slots from now.

    Slot 0 lasts `first_slot` minutes (to the next slot boundary of the day), the others
    `slot_minutes`; the last rate holds beyond the end. `priority_shares` splits a category's
    rate by priority rank (assistance, reservation, normal); `level_sd` is the uncertainty of
    today's demand level, drawn once per simulated run.
    """

    rates: Mapping[str, tuple[float, ...]]
    priority_shares: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    first_slot: float = 30.0
    slot_minutes: float = 30.0
    level_sd: float = 0.0


@dataclass(frozen=True)
class WaitEstimate:
    """Minutes until the call, with an 80% interval."""

    minutes: float
    low: float
    high: float

    def rounded(self) -> tuple[int, int, int]:
        """Whole minutes as shown; bounds to the nearest minute, not outwards.

        Outward rounding widens every interval by a minute on average: for the short waits of a
        quiet day that alone pushed the "80%" interval to cover nearly every wait.
        """
        return (round(self.minutes), round(self.low), round(self.high))


@dataclass(frozen=True)
class Estimates:
    """Per category, the estimate for the k-th ticket in its queue (k = 0 .. waiting)."""

    by_rank: Mapping[str, Sequence[WaitEstimate | None]] = field(default_factory=dict)

    def for_rank(self, category_id: str, rank: int) -> WaitEstimate | None:
        """Estimate for the ticket with `rank` tickets ahead of it in `category_id`."""
        ranks = self.by_rank.get(category_id, ())
        if 0 <= rank < len(ranks):
            return ranks[rank]
        return None

    def for_new_ticket(self, category_id: str) -> WaitEstimate | None:
        """Estimate for a visitor taking a ticket in `category_id` now."""
        ranks = self.by_rank.get(category_id, ())
        return ranks[-1] if ranks else None


class WaitEstimator(Protocol):
    def __call__(self, snapshot: QueueSnapshot) -> Estimates: ...


def _interval(minutes: float) -> WaitEstimate:
    # A deliberately wide band around the deterministic forecast; the stronger estimator
    # (forward simulation with learnt distributions) replaces it.
    return WaitEstimate(minutes, max(0.0, minutes * 0.6 - 1.0), minutes * 1.5 + 2.0)


def forward_estimate(snapshot: QueueSnapshot) -> Estimates:
    """Replay the dispatch rule forward with mean service times.

    Each available counter becomes free after the rest of its current service, then takes the
    next ticket of the first of its categories that still has one. Counters shared between
    categories are therefore modelled, not guessed. Runs in O(waiting x log counters).
    """
    means = snapshot.service_minutes
    remaining = dict(snapshot.waiting)
    categories = snapshot.categories or tuple(remaining)
    ranks: dict[str, list[WaitEstimate | None]] = {c: [] for c in categories}
    free: list[tuple[float, int]] = []
    for index, counter in enumerate(snapshot.counters):
        if not counter.available or not any(c in ranks for c in counter.categories):
            continue
        start = 0.0
        if counter.busy_category is not None and counter.busy_since is not None:
            mean = means.get(counter.busy_category, 5.0)
            elapsed = (snapshot.now - counter.busy_since).total_seconds() / 60.0
            start = max(mean - max(elapsed, 0.0), 0.2 * mean)
        heapq.heappush(free, (start, index))
    # Index of the next rank to predict per category; the rank equal to the waiting count is the
    # visitor who takes a ticket now and is "served" without consuming counter time (a ghost),
    # so one pass gives every category's new-ticket estimate.
    next_rank = dict.fromkeys(categories, 0)
    while free:
        at, index = heapq.heappop(free)
        counter = snapshot.counters[index]
        chosen: str | None = None
        for category_id in counter.categories:
            if category_id not in ranks:
                continue
            if next_rank[category_id] < remaining.get(category_id, 0):
                chosen = category_id
                break
            if next_rank[category_id] == remaining.get(category_id, 0):
                ranks[category_id].append(_interval(at))
                next_rank[category_id] += 1  # ghost recorded; keep looking for real work
        if chosen is None:
            continue  # nothing left this counter serves: it stays idle
        ranks[chosen].append(_interval(at))
        next_rank[chosen] += 1
        heapq.heappush(free, (at + means.get(chosen, 5.0), index))
    for category_id in categories:
        while len(ranks[category_id]) < remaining.get(category_id, 0) + 1:
            ranks[category_id].append(None)  # no open counter serves it
    return Estimates(by_rank={c: tuple(r) for c, r in ranks.items()})
