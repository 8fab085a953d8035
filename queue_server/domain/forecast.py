"""Wait estimates by forward simulation of the real dispatch from the current state.

`MonteCarloEstimator` replays the call rule many times from the snapshot: each counter finishes
its current service (drawn from the service-time distribution given how long it has already
lasted), then takes, among its categories in priority order, the best ticket by priority rank and
queue time. Service times are drawn from the learnt lognormal of the category, scaled by the
counter's speed; a called ticket may be a no-show that costs only a short counter time; tickets
that arrive later (reservations, assistance, or a shared counter's main category) may be called
first. The median of the simulated call times is the estimate, the 10th and 90th percentiles the
80% interval.

The random generator is seeded with a constant, so one state always gives the same estimates,
and consecutive refreshes move only when the state does (common random numbers).
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from statistics import NormalDist

from queue_server.domain.estimate import (
    ArrivalForecast,
    Estimates,
    LogNormal,
    QueueSnapshot,
    WaitEstimate,
    forward_estimate,
)

_NORMAL = NormalDist()
#: Priority rank of a visitor taking an ordinary ticket now (see ticket.Priority.rank).
_NORMAL_RANK = 2
_NONE = 3  # "no ticket" in rank comparisons
_DEFAULT_SIGMA = 0.5


@dataclass(frozen=True)
class _Stream:
    """Piecewise-constant arrival rate of one category and priority (per minute)."""

    bounds: tuple[float, ...]  # slot i ends at bounds[i]; the last is +inf
    rates: tuple[float, ...]

    def slot(self, at: float) -> int:
        """Index of the slot `at` falls in."""
        slot = 0
        while self.bounds[slot] <= at:
            slot += 1
        return slot

    def next_after(self, at: float, budget: float) -> float:
        """The time the integrated rate from `at` reaches `budget` (an Exp(1) draw)."""
        slot = self.slot(at)
        while True:
            rate = self.rates[slot]
            end = self.bounds[slot]
            if rate > 0.0:
                reach = at + budget / rate
                if reach <= end:
                    return reach
                budget -= rate * (end - at)
            if end == math.inf:
                return math.inf
            at = end
            slot += 1

    def integrated(self, at: float) -> float:
        """Expected arrivals from 0 to `at` (the integral of the rate)."""
        slot = bisect.bisect_right(self.bounds, at)
        start = self.bounds[slot - 1] if slot else 0.0
        return self._before[slot] + self.rates[slot] * (at - start)

    @cached_property
    def _before(self) -> tuple[float, ...]:
        """Expected arrivals before each slot starts."""
        totals = [0.0]
        start = 0.0
        for end, rate in zip(self.bounds[:-1], self.rates[:-1], strict=True):
            totals.append(totals[-1] + rate * (end - start))
            start = end
        return tuple(totals)


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson(mean) draw by inversion (one uniform), normal beyond a mean of 40."""
    if mean <= 0.0:
        return 0
    if mean > 40.0:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    u = rng.random()
    p = math.exp(-mean)
    cumulative = p
    k = 0
    while u > cumulative and p > 0.0:
        k += 1
        p *= mean / k
        cumulative += p
    return k


@dataclass(frozen=True)
class _Arrivals:
    """Walk-ins of one category: the rate over the day and each priority rank's share of it."""

    stream: _Stream
    shares: tuple[tuple[int, float], ...]  # (rank, share) for the ranks that arrive at all


def _arrivals(
    arrivals: ArrivalForecast | None, categories: Sequence[str]
) -> list[_Arrivals | None]:
    out: list[_Arrivals | None] = []
    for category_id in categories:
        rates = arrivals.rates.get(category_id) if arrivals is not None else None
        if arrivals is None or not rates or not any(r > 0.0 for r in rates):
            out.append(None)
            continue
        shares = arrivals.priority_shares.get(category_id, (0.0, 0.0, 1.0))
        ends = (arrivals.first_slot + i * arrivals.slot_minutes for i in range(len(rates) - 1))
        stream = _Stream((*ends, math.inf), tuple(rates))
        ranked = tuple((rank, share) for rank, share in enumerate(shares) if share > 0.0)
        out.append(_Arrivals(stream, ranked))
    return out


@dataclass(frozen=True)
class _Counter:
    """A counter in the simulation: category indexes, speed per category index, state."""

    cats: tuple[int, ...]
    factors: tuple[float, ...]
    start: float  # minutes until it can call (0 when open)
    busy: int  # category index of the ticket at the counter, -1 when none
    elapsed: float  # minutes that service has lasted
    returning: LogNormal | None  # a paused counter's pause length
    paused_for: float


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass(frozen=True)
class MonteCarloEstimator:
    """A `WaitEstimator` that simulates the dispatch forward `runs` times.

    The number of runs shrinks for very long queues so that one recompute stays within
    `max_calls` simulated calls (about 25 ms in CPython), and never goes below `min_runs`.
    Past `max_waiting` waiting tickets (far more than the reference city hall's ~150; stress
    tests) even `min_runs` would take too long, and the deterministic replay answers instead.
    """

    runs: int = 200
    min_runs: int = 40
    max_calls: int = 8_000
    seed: int = 20261127
    low_quantile: float = 0.1
    high_quantile: float = 0.9
    horizon_minutes: float = 720.0
    max_waiting: int = 400  # min_runs x 400 = 2 x max_calls: the cost stays bounded

    def __call__(self, snapshot: QueueSnapshot) -> Estimates:
        if sum(snapshot.waiting.values()) > self.max_waiting:
            return forward_estimate(snapshot)
        categories = snapshot.categories or tuple(snapshot.waiting)
        index = {c: i for i, c in enumerate(categories)}
        n_cat = len(categories)

        # Targets per category: the waiting tickets' priority ranks in call order, then the
        # visitor who takes a normal ticket now (a "ghost" that is called but takes no time).
        targets: list[tuple[int, ...]] = []
        for category_id in categories:
            count = snapshot.waiting.get(category_id, 0)
            ranks = tuple(snapshot.waiting_priorities.get(category_id, ()))
            if len(ranks) != count:
                ranks = (_NORMAL_RANK,) * count
            targets.append((*ranks, _NORMAL_RANK))

        models: list[LogNormal] = []
        for category_id in categories:
            model = snapshot.service_models.get(category_id)
            if model is None:
                mean = snapshot.service_minutes.get(category_id, 5.0)
                model = LogNormal.from_mean(mean, _DEFAULT_SIGMA)
            models.append(model)
        no_show = [snapshot.no_show_rates.get(c, 0.0) for c in categories]
        no_show_minutes = snapshot.no_show_minutes
        long_share, long_factor = snapshot.long_services

        # Counters that serve something we estimate and are open now or expected back.
        counters: list[_Counter] = []
        served = [False] * n_cat
        for counter in snapshot.counters:
            cats = tuple(index[c] for c in counter.categories if c in index)
            if not cats:
                continue
            if counter.available:
                start = 0.0
            elif counter.returns_in is not None:
                start = max(counter.returns_in, 0.0)
            else:
                continue
            factor = snapshot.counter_factors.get(counter.id, 1.0)
            skills = snapshot.skill_factors.get(counter.id, {})
            factors = tuple(skills.get(categories[c], factor) for c in range(n_cat))
            busy = -1
            elapsed = 0.0
            if counter.available and counter.busy_category in index:
                busy = index[counter.busy_category]
                if counter.busy_since is not None:
                    elapsed = max((snapshot.now - counter.busy_since).total_seconds() / 60.0, 0.0)
            returning = None if counter.available else counter.return_model
            counters.append(
                _Counter(cats, factors, start, busy, elapsed, returning, counter.paused_for)
            )
            for c in cats:
                served[c] = True

        # Tickets ahead may give up: the hazard integrated up to what each has waited so far.
        hazard = snapshot.patience
        waited: list[tuple[float, ...]] = []
        spent: list[tuple[float, ...]] = []
        for c, category_id in enumerate(categories):
            minutes = tuple(snapshot.waiting_minutes.get(category_id, ()))
            if len(minutes) != len(targets[c]) - 1:
                minutes = (0.0,) * (len(targets[c]) - 1)
            waited.append(minutes)
            spent.append(tuple(hazard.cumulative(w) for w in minutes) if hazard else ())

        # Breaks open counters will take later (lunch, short absences), as a rate by time slot.
        breaks = snapshot.pauses
        break_stream: _Stream | None = None
        if breaks is not None and any(r > 0.0 for r in breaks.rates):
            ends = (
                breaks.first_slot + i * breaks.slot_minutes for i in range(len(breaks.rates) - 1)
            )
            break_stream = _Stream((*ends, math.inf), breaks.rates)

        total = sum(len(t) for t in targets)
        runs = max(self.min_runs, min(self.runs, self.max_calls // max(total, 1)))
        walk_ins = _arrivals(snapshot.arrivals, categories)
        level_sd = snapshot.arrivals.level_sd if snapshot.arrivals is not None else 0.0
        rng = random.Random(self.seed)
        results: list[list[list[float]]] = [[[] for _ in t] for t in targets]
        wanted = sum(len(targets[c]) for c in range(n_cat) if served[c])
        horizon = self.horizon_minutes

        for _ in range(runs):
            mus = [m.mu + (rng.gauss(0.0, m.mu_sd) if m.mu_sd > 0.0 else 0.0) for m in models]
            level = math.exp(rng.gauss(0.0, level_sd)) if level_sd > 0.0 else 1.0
            pending = [[0, 0, 0] for _ in range(n_cat)]
            # Arrivals since the category was last looked at, as one Poisson count per look:
            # only how many newcomers wait matters to the dispatch, not when each came.
            looked = [0.0] * n_cat
            position = [0] * n_cat
            left = wanted
            free: list[tuple[float, int]] = []
            next_break = [math.inf] * len(counters)
            for i, k in enumerate(counters):
                start = k.start
                if k.returning is not None:
                    # the pause's length given how long it has lasted, not one typical figure
                    start = max(
                        self._remaining(rng, k.returning, k.returning.mu, 1.0, k.paused_for), 0.5
                    )
                if k.busy >= 0:
                    start += self._remaining(
                        rng, models[k.busy], mus[k.busy], k.factors[k.busy], k.elapsed
                    )
                free.append((start, i))
                if break_stream is not None:
                    next_break[i] = break_stream.next_after(start, rng.expovariate(1.0))
            heapq.heapify(free)

            while free and left > 0:
                at, i = heapq.heappop(free)
                if at > horizon:
                    break
                k = counters[i]
                if all(position[c] == len(targets[c]) for c in k.cats):
                    continue  # all it serves is estimated: what it does next changes nothing
                if at >= next_break[i] and breaks is not None and break_stream is not None:
                    # the clerk finished the last visitor and goes on a break first
                    length = breaks.lengths[break_stream.slot(at)]
                    back = at + math.exp(length.mu + length.sigma * rng.gauss())
                    next_break[i] = break_stream.next_after(back, rng.expovariate(1.0))
                    heapq.heappush(free, (back, i))
                    continue
                serve = -1
                for c in k.cats:
                    waits = pending[c]
                    coming = walk_ins[c]
                    if coming is not None and at > looked[c]:
                        stream = coming.stream
                        expected = (stream.integrated(at) - stream.integrated(looked[c])) * level
                        for rank, share in coming.shares:
                            waits[rank] += _poisson(rng, expected * share)
                        looked[c] = at
                    queue = targets[c]
                    while True:
                        pos = position[c]
                        head = queue[pos] if pos < len(queue) else _NONE
                        newcomer = 0 if waits[0] else 1 if waits[1] else 2 if waits[2] else _NONE
                        if newcomer < head:
                            waits[newcomer] -= 1  # a later arrival with a better priority
                            serve = c
                            break
                        if head == _NONE:
                            break
                        # Had it stayed, this ticket would be called now: that is its estimate.
                        results[c][pos].append(at)
                        position[c] = pos + 1
                        left -= 1
                        if pos + 1 < len(queue):
                            if hazard is not None:
                                gave_up = hazard.cumulative(waited[c][pos] + at) - spent[c][pos]
                                if gave_up > 0.0 and rng.random() < -math.expm1(-gave_up):
                                    continue  # it left meanwhile and takes no counter time
                            serve = c
                            break
                        # the ghost takes no counter time: look again in the same category
                    if serve >= 0:
                        break
                if serve < 0:
                    continue  # nothing this counter serves is left: it stays idle
                if no_show[serve] > 0.0 and rng.random() < no_show[serve]:
                    duration = no_show_minutes
                else:
                    duration = k.factors[serve] * math.exp(
                        mus[serve] + models[serve].sigma * rng.gauss()
                    )
                    if long_share > 0.0 and rng.random() < long_share:
                        duration *= long_factor
                heapq.heappush(free, (at + duration, i))

        by_rank: dict[str, tuple[WaitEstimate | None, ...]] = {}
        for c, category_id in enumerate(categories):
            row: list[WaitEstimate | None] = []
            for samples in results[c]:
                if not samples:
                    row.append(None)
                    continue
                # runs that hit the horizon count as "very late", not as missing
                ordered = sorted(samples) + [horizon] * (runs - len(samples))
                row.append(
                    WaitEstimate(
                        _quantile(ordered, 0.5),
                        _quantile(ordered, self.low_quantile),
                        _quantile(ordered, self.high_quantile),
                    )
                )
            by_rank[category_id] = tuple(row)
        return Estimates(by_rank=by_rank)

    @staticmethod
    def _remaining(
        rng: random.Random, model: LogNormal, mu: float, factor: float, elapsed: float
    ) -> float:
        """Rest of a service that has lasted `elapsed` minutes: a draw given it lasts longer."""
        sigma = max(model.sigma, 1e-6)
        z0 = (math.log(max(elapsed, 1e-6) / factor) - mu) / sigma
        u0 = _NORMAL.cdf(z0)
        u = min(u0 + (1.0 - u0) * rng.random(), 1.0 - 1e-9)
        if u <= 0.0:
            return 0.0
        total = factor * math.exp(mu + sigma * _NORMAL.inv_cdf(u))
        return max(total - elapsed, 0.0)


#: The estimator the live server and the replay use unless told otherwise.
monte_carlo_estimate = MonteCarloEstimator()
