"""Wait-estimate benchmark: simulated city-hall days, replayed as the live server would have.

For each scenario (`queue_server.simulation.model.SCENARIOS`: the default office, more give-ups
and no-shows, long irregular breaks, skill-mixed clerks, a quiet month, the moving season),
twenty training days (seed 1) give the estimator its history and calibrate the baselines'
intervals; test days from another seed are scored. Predictors: QL, QL-m, HOL, LES (Ibrahim &
Whitt), ours (forward simulation with learnt inputs) and the floor (ours with the simulator's
true parameters). Prints one row per scenario, optional detailed tables, and the recompute time.

    nice -n 10 .venv/bin/python bench/bench_estimate.py [--scenarios default,quiet]
        [--test-days 10] [--test-seed 2] [--jobs 2] [--details]

Development used other test seeds (and the training seed); seed 2 is the reported one.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist

from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.backtest.metrics import Metrics, Scored, is_peak, score
from queue_server.backtest.replay import ReplayRow, replay
from queue_server.domain.estimate import (
    ArrivalForecast,
    CounterSnapshot,
    LogNormal,
    Patience,
    QueueSnapshot,
    forward_estimate,
)
from queue_server.domain.forecast import monte_carlo_estimate
from queue_server.domain.learning import ABANDON_BOUNDS, SLOT_MINUTES
from queue_server.simulation.engine import SimulatedDay, open_days, simulate_days
from queue_server.simulation.model import SCENARIOS, CityHallModel, DayTruth, scenario_model

BASELINES = ("QL", "QL-m", "HOL", "LES")
HEADER = "| predictor | tickets | MAE (min) | RMSE | within ±5 min | 80% coverage | width (min) |"
RULE = "|---|---|---|---|---|---|---|"
MAE_TARGET = 0.60  # our MAE / QL MAE
COVERAGE_TARGET = (0.78, 0.85)


def true_patience(model: CityHallModel) -> Patience | None:
    """The simulator's give-up hazard on the estimator's bins (a share of visitors is impatient,
    with lognormal patience; the others never leave)."""
    if model.patience_share <= 0.0:
        return None
    normal = NormalDist()

    def survival(minutes: float) -> float:
        if minutes <= 0.0:
            return 1.0
        if math.isinf(minutes):
            return 1.0 - model.patience_share
        gone = normal.cdf(math.log(minutes / model.patience_median) / 0.5)
        return 1.0 - model.patience_share * gone

    rates = []
    lower = 0.0
    for upper in ABANDON_BOUNDS:
        end = upper if math.isfinite(upper) else lower + 120.0
        rates.append(math.log(survival(lower) / survival(end)) / (end - lower))
        lower = upper
    return Patience(ABANDON_BOUNDS, tuple(rates))


def floor_hook(
    truths: dict[date, DayTruth], model: CityHallModel
) -> Callable[[QueueSnapshot], QueueSnapshot]:
    """Replace every learnt input by the day's true parameters (staffing stays as observed)."""
    speeds = {c.id: c.speed for c in model.counters}
    skills = {c.id: {p.id: c.pace(p.id) for p in model.procedures} for c in model.counters}
    no_show_minutes = sum(model.no_show_minutes) / 2.0
    patience = true_patience(model)

    def hook(snapshot: QueueSnapshot) -> QueueSnapshot:
        truth = truths[snapshot.now.astimezone(model.zone).date()]
        categories = snapshot.categories
        local = snapshot.now.astimezone(model.zone)
        minute = local.hour * 60 + local.minute + local.second / 60.0
        first = SLOT_MINUTES - minute % SLOT_MINUTES
        mids = [first / 2.0] + [first + (i + 0.5) * SLOT_MINUTES for i in range(16)]
        rates = {
            c: tuple(truth.arrival_rate(c, snapshot.now + timedelta(minutes=m)) for m in mids)
            for c in categories
        }
        shares = {c: truth.priority_shares(c) for c in categories}
        models = {
            c: LogNormal(truth.service_mu(c, snapshot.now), model.procedure(c).sigma)
            for c in categories
        }
        return dataclasses.replace(
            snapshot,
            service_minutes={c: m.mean for c, m in models.items()},
            service_models=models,
            counter_factors=speeds,
            skill_factors=skills,
            arrivals=ArrivalForecast(rates, shares, first, SLOT_MINUTES, 0.0),
            no_show_rates=dict.fromkeys(categories, model.no_show),
            no_show_minutes=no_show_minutes,
            patience=patience,
        )

    return hook


def residual_quantiles(rows: Sequence[ReplayRow], name: str) -> tuple[float, float]:
    residuals = sorted(
        r.record.wait_minutes - r.baselines[name] for r in rows if r.record.wait_minutes is not None
    )
    return residuals[int(0.1 * (len(residuals) - 1))], residuals[int(0.9 * (len(residuals) - 1))]


def scored_rows(
    rows: Sequence[ReplayRow],
    calibration: dict[str, tuple[float, float]],
    floor: dict[str, ReplayRow] | None,
) -> dict[str, list[tuple[ReplayRow, Scored]]]:
    """Per predictor, the tickets every predictor estimated, with the shown whole minutes."""
    out: dict[str, list[tuple[ReplayRow, Scored]]] = defaultdict(list)
    for row in rows:
        actual = row.record.wait_minutes
        p = row.prediction
        f = floor.get(row.record.ticket_id) if floor is not None else None
        if actual is None or p.minutes is None:
            continue
        if floor is not None and (f is None or f.prediction.minutes is None):
            continue
        assert p.low is not None and p.high is not None
        out["ours"].append((row, Scored(actual, p.minutes, p.low, p.high)))
        if f is not None:
            fp = f.prediction
            assert fp.minutes is not None and fp.low is not None and fp.high is not None
            out["floor"].append((row, Scored(actual, fp.minutes, fp.low, fp.high)))
        for name in BASELINES:
            point = row.baselines[name]
            q10, q90 = calibration[name]
            low, high = math.floor(max(point + q10, 0.0)), math.ceil(max(point + q90, 0.0))
            out[name].append((row, Scored(actual, round(point), low, high)))
    return out


@dataclass(frozen=True)
class Result:
    scenario: str
    test_dates: tuple[date, ...]
    tickets: int
    mean_wait: float
    overall: dict[str, Metrics]
    details: list[str]
    seconds: float


def _table(title: str, by_name: dict[str, Metrics]) -> list[str]:
    lines = [f"\n#### {title}\n", HEADER, RULE]
    lines += [f"| {name} | " + " | ".join(m.row()) + " |" for name, m in by_name.items()]
    return lines


def evaluate(name: str, args: argparse.Namespace) -> Result:
    """Simulate, replay and score one scenario."""
    started = time.perf_counter()
    office = parse_office(read_office_file(DEMO_OFFICE))
    model = scenario_model(office, name, seed=1)
    train_dates = open_days(SCENARIOS[name].start, args.train_days)
    test_dates = open_days(train_dates[-1] + timedelta(days=1), args.test_days)
    days: list[SimulatedDay] = simulate_days(model, train_dates, args.train_seed)
    days += simulate_days(model, test_dates, args.test_seed)
    records = [r for d in days for r in d.records]
    sessions = [s for d in days for s in d.sessions]
    truths = {d.truth.day: d.truth for d in days}
    progress = _progress(f"{name}", len(test_dates) * (1 if args.no_floor else 2))

    training = replay(
        records, office, sessions, forward_estimate, baselines=True, only_days=train_dates
    )
    calibration = {n: residual_quantiles(training, n) for n in BASELINES}
    rows = replay(
        records,
        office,
        sessions,
        monte_carlo_estimate,
        baselines=True,
        only_days=test_dates,
        progress=progress,
    )
    floor: dict[str, ReplayRow] | None = None
    if not args.no_floor:
        floor_rows = replay(
            records,
            office,
            sessions,
            monte_carlo_estimate,
            hook=floor_hook(truths, model),
            only_days=test_dates,
            progress=progress,
        )
        floor = {r.record.ticket_id: r for r in floor_rows}
    scored = scored_rows(rows, calibration, floor)
    order = [*BASELINES, "ours"] + ([] if floor is None else ["floor"])
    overall = {n: score(s for _, s in scored[n]) for n in order}

    details: list[str] = []
    if args.details:
        zone = model.zone
        details += _table(f"{name}: all test tickets", overall)
        for label, peak in (
            ("peak hours (09:00-11:00, 13:00-14:30)", True),
            ("quiet hours", False),
        ):
            details += _table(
                f"{name}: {label}",
                {
                    n: score(s for r, s in scored[n] if is_peak(r.record.issued_at, zone) == peak)
                    for n in order
                },
            )
        details.append(f"\n#### {name}: by procedure (MAE min; our 80% coverage and width)\n")
        details.append(
            "| procedure | tickets | mean wait | " + " | ".join(order) + " | cov | width |"
        )
        details.append("|---" * (len(order) + 5) + "|")
        for category in office.categories:
            per = {
                n: score(s for r, s in scored[n] if r.record.category_id == category.id)
                for n in order
            }
            if per["ours"].count:
                details.append(
                    f"| {category.id} | {per['ours'].count} | {per['ours'].mean_wait:.1f} | "
                    + " | ".join(f"{per[n].mae:.2f}" for n in order)
                    + f" | {100 * per['ours'].coverage:.1f}% | {per['ours'].width:.1f} |"
                )
    tickets = [r for r in records if r.issued_at.astimezone(model.zone).date() in set(test_dates)]
    waits = [r.wait_minutes for r in tickets if r.wait_minutes is not None]
    if progress is not None:
        progress.close()
    return Result(
        name,
        tuple(test_dates),
        len(tickets),
        statistics.mean(waits),
        overall,
        details,
        time.perf_counter() - started,
    )


class _Bar:
    """A tqdm bar over test days, on a terminal only (the replay reports each finished day)."""

    def __init__(self, label: str, total: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=label, unit="day", leave=False, file=sys.stderr)

    def __call__(self, tickets: int) -> None:
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def _progress(label: str, total: int) -> _Bar | None:
    return _Bar(label, total) if sys.stderr.isatty() else None


def recompute_timing(waiting_total: int, counters: int, repeats: int = 40) -> tuple[float, float]:
    """p50 and p95 milliseconds to recompute every estimate (give-ups and a pause included)."""
    rng = random.Random(3)
    now = datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
    cats = ("certificates", "koseki", "moving", "insurance", "tax", "mynumber")
    shares = (0.35, 0.15, 0.15, 0.12, 0.13, 0.10)
    views = tuple(
        CounterSnapshot(
            f"c{i}", (cats[i % 6], cats[(i + 1) % 6]), True, cats[i % 6], now - timedelta(minutes=3)
        )
        if i < counters - 1
        else CounterSnapshot(
            f"c{i}", (cats[0],), False, returns_in=10.0, return_model=LogNormal.from_mean(30.0)
        )
        for i in range(counters)
    )
    waiting = {c: round(waiting_total * s) for c, s in zip(cats, shares, strict=True)}
    snapshot = QueueSnapshot(
        now,
        waiting,
        views,
        dict.fromkeys(cats, 8.0),
        cats,
        waiting_priorities={
            c: tuple(sorted(rng.choice((0, 1, 2, 2, 2, 2)) for _ in range(n)))
            for c, n in waiting.items()
        },
        service_models={c: LogNormal.from_mean(8.0, 0.5, 0.1) for c in cats},
        counter_factors={f"c{i}": 1.0 for i in range(counters)},
        arrivals=ArrivalForecast({c: (0.2, 0.3, 0.2) for c in cats}, {}, 12.0, 30.0, 0.1),
        no_show_rates=dict.fromkeys(cats, 0.05),
        waiting_minutes={
            c: tuple(rng.uniform(0, 120) for _ in range(n)) for c, n in waiting.items()
        },
        patience=Patience(
            ABANDON_BOUNDS, (0.0, 0.001, 0.002, 0.004, 0.006, 0.008, 0.008, 0.006, 0.004)
        ),
    )
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        monte_carlo_estimate(snapshot)
        times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    return times[len(times) // 2], times[int(0.95 * (len(times) - 1))]


def _ratio(a: Metrics, b: Metrics) -> float:
    return a.mae / b.mae if b.mae else math.nan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--train-days", type=int, default=20)
    parser.add_argument("--test-days", type=int, default=10)
    parser.add_argument("--train-seed", type=int, default=1)
    parser.add_argument("--test-seed", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="scenarios replayed in parallel")
    parser.add_argument("--no-floor", action="store_true", help="skip the true-parameter replay")
    parser.add_argument("--details", action="store_true", help="peak/quiet/procedure tables")
    args = parser.parse_args()
    names = [n.strip() for n in args.scenarios.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")

    started = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(evaluate, names, [args] * len(names)))
    else:
        results = [evaluate(n, args) for n in names]

    print(
        f"{args.train_days} training days (seed {args.train_seed}) then {args.test_days} test days "
        f"(seed {args.test_seed}) per scenario; demo office, 8 counters, 6 procedures\n"
    )
    print(
        "| scenario | test days | scored | mean wait | MAE ours | MAE QL | ours/QL | floor/QL "
        "| 80% coverage | width | floor coverage | targets |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        ours, ql = r.overall["ours"], r.overall["QL"]
        floor = r.overall.get("floor")
        met = ours.mae <= MAE_TARGET * ql.mae and (
            COVERAGE_TARGET[0] <= ours.coverage <= COVERAGE_TARGET[1]
        )
        print(
            f"| {r.scenario} | {r.test_dates[0]:%m-%d}..{r.test_dates[-1]:%m-%d} | {ours.count} "
            f"| {ours.mean_wait:.1f} | {ours.mae:.2f} | {ql.mae:.2f} | {_ratio(ours, ql):.2f} "
            f"| {'-' if floor is None else f'{_ratio(floor, ql):.2f}'} "
            f"| {100 * ours.coverage:.1f}% | {ours.width:.1f} "
            f"| {'-' if floor is None else f'{100 * floor.coverage:.1f}%'} "
            f"| {'met' if met else 'MISSED'} |"
        )
    for r in results:
        for line in r.details:
            print(line)
    p50, p95 = recompute_timing(150, 10)
    q50, q95 = recompute_timing(200, 8)
    print(
        f"\nTargets: MAE <= {MAE_TARGET:.2f} x QL, 80% coverage "
        f"{100 * COVERAGE_TARGET[0]:.0f}-{100 * COVERAGE_TARGET[1]:.0f}%."
    )
    print(f"Recompute, 150 waiting x 10 counters: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"Recompute, 200 waiting x 8 counters: p50 {q50:.1f} ms, p95 {q95:.1f} ms (< 100 ms)")
    print(f"Replay time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
