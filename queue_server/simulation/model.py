"""A city-hall day as a set of parameters: demand, procedures, clerks, breaks.

Everything the simulator draws from is here, so the benchmark can hand the very same numbers to
the estimator ("the floor": the estimator with the day's true parameters).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from queue_server.domain.office import Office

#: Typical share of daily demand and service spread per procedure of the demo office; unknown
#: categories get an equal share and sigma 0.5.
_KNOWN_CATEGORIES: Mapping[str, tuple[float, float]] = {
    "certificates": (0.52, 0.45),
    "koseki": (0.11, 0.5),
    "moving": (0.08, 0.45),
    "insurance": (0.08, 0.5),
    "tax": (0.10, 0.4),
    "mynumber": (0.06, 0.35),
}
_MOVING_SEASON = {"moving": 2.2, "certificates": 1.5, "insurance": 1.4, "mynumber": 1.2}


@dataclass(frozen=True)
class ProcedureSpec:
    id: str
    mean_minutes: float  # at an average counter, at noon, on an average day
    sigma: float  # of log-minutes
    share: float  # of the day's tickets
    reservation_share: float = 0.0  # booked online, called before normal tickets
    assistance_share: float = 0.03


@dataclass(frozen=True)
class CounterSpec:
    id: str
    categories: tuple[str, ...]
    speed: float = 1.0  # multiplies service minutes (the clerk's pace)
    opens_late: float = 0.0  # minutes after opening the first session starts
    lunch_group: int = 0
    # per procedure, multiplies `speed` (a clerk quick at certificates may be slow at tax)
    category_speed: Mapping[str, float] = field(default_factory=dict)

    def pace(self, category_id: str) -> float:
        return self.speed * self.category_speed.get(category_id, 1.0)


@dataclass(frozen=True)
class CityHallModel:
    """Parameters of every simulated day."""

    zone: ZoneInfo
    procedures: tuple[ProcedureSpec, ...]
    counters: tuple[CounterSpec, ...]
    open_at: time = time(8, 30)
    reception_end: time = time(17, 0)
    last_reception: Mapping[str, time] = field(default_factory=dict)
    tickets_per_day: float = 380.0
    weekday_factor: tuple[float, ...] = (1.2, 1.0, 0.95, 1.0, 1.1, 0.7, 0.7)
    day_sd: float = 0.12  # day-to-day demand noise (log)
    speed_day_sd: float = 0.07  # day-to-day service pace (log)
    drift: float = 0.12  # services get this much slower from opening to closing
    no_show: float = 0.05
    no_show_minutes: tuple[float, float] = (0.8, 2.5)
    patience_share: float = 0.3  # visitors who leave if not called within their patience
    patience_median: float = 75.0
    outlier_share: float = 0.015  # services that take several times longer (complex cases)
    lunch_minutes: tuple[float, float] = (45.0, 60.0)
    short_breaks: tuple[int, int] = (0, 2)
    short_break_minutes: tuple[float, float] = (5.0, 15.0)

    def procedure(self, category_id: str) -> ProcedureSpec:
        for p in self.procedures:
            if p.id == category_id:
                return p
        raise KeyError(category_id)


def intensity(hour: float) -> float:
    """Relative arrival intensity by local hour: a morning and an after-lunch peak."""
    base = 0.55
    morning = 1.1 * math.exp(-(((hour - 9.7) / 0.9) ** 2))
    afternoon = 0.75 * math.exp(-(((hour - 13.6) / 0.8) ** 2))
    lunch = -0.25 * math.exp(-(((hour - 12.2) / 0.45) ** 2))
    late = -0.2 * max(0.0, hour - 15.5)
    return max(base + morning + afternoon + lunch + late, 0.1)


def season_factor(day: date, category_id: str) -> float:
    """Late March to mid April is the moving season (引っ越しシーズン)."""
    if (day.month == 3 and day.day >= 20) or (day.month == 4 and day.day <= 10):
        return _MOVING_SEASON.get(category_id, 1.1)
    return 1.0


def model_from_office(
    office: Office, seed: int = 0, tickets_per_day: float = 380.0
) -> CityHallModel:
    """Default parameters for `office`: demand shares, spreads, clerk paces from `seed`."""
    rng = random.Random(seed)
    shares = {
        c.id: _KNOWN_CATEGORIES.get(c.id, (1.0 / len(office.categories), 0.5))
        for c in office.categories
    }
    total = sum(s for s, _ in shares.values())
    procedures = tuple(
        ProcedureSpec(
            id=c.id,
            mean_minutes=c.service_minutes,
            sigma=shares[c.id][1],
            share=shares[c.id][0] / total,
            reservation_share=0.4 if c.reservable else 0.0,
        )
        for c in office.categories
    )
    counters = tuple(
        CounterSpec(
            id=k.id,
            categories=k.categories,
            speed=math.exp(rng.gauss(0.0, 0.12)),
            opens_late=30.0 if i % 4 == 3 else 0.0,
            lunch_group=i % 2,
        )
        for i, k in enumerate(office.counters)
    )
    last = {c.id: c.last_reception for c in office.categories if c.last_reception is not None}
    return CityHallModel(
        zone=office.zone,
        procedures=procedures,
        counters=counters,
        last_reception=last,
        tickets_per_day=tickets_per_day,
    )


@dataclass(frozen=True)
class DayTruth:
    """The parameters one simulated day was drawn with."""

    day: date
    demand: float  # multiplies the model's tickets per day
    pace: float  # multiplies every service time
    model: CityHallModel

    def opening(self) -> datetime:
        return datetime.combine(self.day, self.model.open_at, tzinfo=self.model.zone)

    def hour(self, moment: datetime) -> float:
        local = moment.astimezone(self.model.zone)
        return local.hour + local.minute / 60.0 + local.second / 3600.0

    def service_mu(self, category_id: str, moment: datetime) -> float:
        """Log-minutes mean at an average counter at `moment`."""
        p = self.model.procedure(category_id)
        span = (self.model.reception_end.hour - self.model.open_at.hour) or 1
        progress = min(max((self.hour(moment) - self.model.open_at.hour) / span, 0.0), 1.0)
        drift = 1.0 + self.model.drift * (progress - 0.5)
        mean = p.mean_minutes * self.pace * drift
        return math.log(mean) - p.sigma * p.sigma / 2.0

    def arrival_rate(self, category_id: str, moment: datetime) -> float:
        """Expected tickets per minute of `category_id` at `moment` (0 outside reception)."""
        local = moment.astimezone(self.model.zone)
        end = self.model.last_reception.get(category_id, self.model.reception_end)
        if not (
            self.model.open_at
            <= local.time().replace(tzinfo=None)
            < min(end, self.model.reception_end)
        ):
            return 0.0
        p = self.model.procedure(category_id)
        per_day = self.model.tickets_per_day * self.demand * p.share
        per_day *= season_factor(self.day, category_id)
        return per_day * intensity(self.hour(moment)) / _intensity_area(self.model)

    def priority_shares(self, category_id: str) -> tuple[float, float, float]:
        p = self.model.procedure(category_id)
        normal = 1.0 - p.assistance_share - p.reservation_share
        return (p.assistance_share, p.reservation_share, normal)

    def opening_plus(self, minutes: float) -> datetime:
        return self.opening() + timedelta(minutes=minutes)


def _intensity_area(model: CityHallModel) -> float:
    """Minutes-weighted integral of `intensity` over the reception hours."""
    start = model.open_at.hour + model.open_at.minute / 60.0
    end = model.reception_end.hour + model.reception_end.minute / 60.0
    steps = 200
    width = (end - start) / steps
    return sum(intensity(start + (i + 0.5) * width) for i in range(steps)) * width * 60.0


@dataclass(frozen=True)
class Scenario:
    """A world that differs from the default one, to check the estimator is not tuned to it."""

    name: str
    description: str
    start: date  # first training day in the benchmark (the default --start of `simulate`)
    change: Callable[[CityHallModel, random.Random], CityHallModel]


def _skill_mix(model: CityHallModel, rng: random.Random) -> CityHallModel:
    counters = tuple(
        dataclasses.replace(
            c,
            category_speed={
                category: (0.75 if i == 0 else 1.5) * math.exp(rng.gauss(0.0, 0.2))
                for i, category in enumerate(c.categories)
            },
        )
        for c in model.counters
    )
    return dataclasses.replace(model, counters=counters)


SCENARIOS: Mapping[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "default", "the demo office, February then March", date(2027, 2, 1), lambda m, r: m
        ),
        Scenario(
            "impatient",
            "more give-ups (55% impatient, median 35 min) and no-shows (10%, 1.5-5 min each)",
            date(2027, 2, 1),
            lambda m, r: dataclasses.replace(
                m,
                patience_share=0.55,
                patience_median=35.0,
                no_show=0.10,
                no_show_minutes=(1.5, 5.0),
            ),
        ),
        Scenario(
            "breaks",
            "longer, irregular breaks: lunch 35-95 min, 1-4 absences of 5-35 min",
            date(2027, 2, 1),
            lambda m, r: dataclasses.replace(
                m, lunch_minutes=(35.0, 95.0), short_breaks=(1, 4), short_break_minutes=(5.0, 35.0)
            ),
        ),
        Scenario(
            "skills",
            "skill-mixed counters: each clerk quick at the main procedure, slow at the others",
            date(2027, 2, 1),
            _skill_mix,
        ),
        Scenario(
            "quiet",
            "a quiet month (July then August, 60% of the demand)",
            date(2027, 7, 5),
            lambda m, r: dataclasses.replace(m, tickets_per_day=0.6 * m.tickets_per_day),
        ),
        Scenario(
            "moving",
            "the moving-season month: tests from mid-March into April",
            date(2027, 2, 15),
            lambda m, r: m,
        ),
    )
}


def scenario_model(
    office: Office, name: str, seed: int = 0, tickets_per_day: float = 380.0
) -> CityHallModel:
    """The model of `office` changed as the scenario `name` says (KeyError if unknown)."""
    scenario = SCENARIOS[name]
    return scenario.change(
        model_from_office(office, seed, tickets_per_day), random.Random(f"{name}-{seed}")
    )
