"""Learning service times, demand and no-shows from event rows."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.learning import (
    Arrival,
    History,
    ServiceSample,
    TodayCounts,
    forecast_arrivals,
    learn_history,
    learn_service_models,
    no_show_rates,
)

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = datetime(2027, 2, 1, tzinfo=TOKYO)
NOW = DAY + timedelta(hours=11)


def samples(
    n: int, mean: float, rng: random.Random, counter: str = "c1", hours_ago: float = 1.0
) -> list[ServiceSample]:
    mu = math.log(mean) - 0.5**2 / 2
    return [
        ServiceSample(
            "a", rng.lognormvariate(mu, 0.5), NOW - timedelta(hours=hours_ago, minutes=i), counter
        )
        for i in range(n)
    ]


class TestServiceTimes:
    def test_a_day_of_data_moves_the_estimate_from_the_prior_to_the_truth(self) -> None:
        rng = random.Random(1)
        models = learn_service_models(NOW, TOKYO, {"a": 5.0}, History(), samples(80, 12.0, rng))
        assert models["a"].mean == pytest.approx(12.0, rel=0.15)

    def test_a_few_forgotten_finish_buttons_barely_move_it(self) -> None:
        rng = random.Random(2)
        clean = samples(40, 6.0, rng)
        dirty = clean + [
            ServiceSample("a", 180.0, NOW - timedelta(minutes=5), "c1") for _ in range(3)
        ]
        plain = learn_service_models(NOW, TOKYO, {"a": 6.0}, History(), clean)["a"].mean
        robust = learn_service_models(NOW, TOKYO, {"a": 6.0}, History(), dirty)["a"].mean
        naive = sum(s.minutes for s in dirty) / len(dirty)
        assert robust == pytest.approx(plain, rel=0.12)
        assert naive > 1.8 * plain

    def test_recent_services_weigh_more_so_drift_is_followed(self) -> None:
        rng = random.Random(3)
        morning = samples(40, 5.0, rng, hours_ago=3.0)
        lately = samples(15, 9.0, rng, hours_ago=0.2)
        mean = learn_service_models(NOW, TOKYO, {"a": 5.0}, History(), morning + lately)["a"].mean
        pooled = (5.0 * 40 + 9.0 * 15) / 55
        assert mean > pooled

    def test_uncertainty_shrinks_as_services_accumulate(self) -> None:
        rng = random.Random(4)
        few = learn_service_models(NOW, TOKYO, {"a": 5.0}, History(), samples(3, 5.0, rng))["a"]
        many = learn_service_models(NOW, TOKYO, {"a": 5.0}, History(), samples(60, 5.0, rng))["a"]
        assert many.mu_sd < few.mu_sd

    def test_history_learns_each_clerks_pace_and_the_hour_profile(self) -> None:
        rng = random.Random(5)
        fast = samples(200, 4.0, rng, counter="fast")
        slow = samples(200, 8.0, rng, counter="slow")
        history = learn_history(fast + slow, [], 5, TOKYO)
        assert history.counter_offsets["slow"] - history.counter_offsets["fast"] == pytest.approx(
            math.log(2), abs=0.2
        )
        assert history.service["a"].mean == pytest.approx(5.8, rel=0.25)


class TestDemandAndNoShows:
    def test_a_busier_morning_raises_the_rest_of_the_day(self) -> None:
        earlier = [
            Arrival("a", 2, DAY - timedelta(days=d) + timedelta(hours=9, minutes=m))
            for d in (1, 2, 3, 4)
            for m in range(0, 240, 4)
        ]
        history = learn_history([], earlier, 4, TOKYO)
        usual = [Arrival("a", 2, DAY + timedelta(hours=9, minutes=m)) for m in range(0, 120, 4)]
        double = [Arrival("a", 2, DAY + timedelta(hours=9, minutes=m)) for m in range(0, 120, 2)]
        now = DAY + timedelta(hours=11)
        normal = forecast_arrivals(now, TOKYO, history, usual, DAY, ["a"]).rates["a"][0]
        busy = forecast_arrivals(now, TOKYO, history, double, DAY, ["a"]).rates["a"][0]
        assert normal == pytest.approx(0.25, rel=0.2)
        assert busy > 1.5 * normal
        # after 13:00 nobody came on earlier days: no arrivals expected then
        assert forecast_arrivals(now, TOKYO, history, usual, DAY, ["a"]).rates["a"][6] == 0.0

    def test_no_show_rate_moves_from_history_to_today(self) -> None:
        history = History(no_show_rate=0.05)
        assert no_show_rates(history, TodayCounts(), ["a"])["a"] == pytest.approx(0.05)
        heavy = no_show_rates(history, TodayCounts({"a": 100}, {"a": 30}), ["a"])["a"]
        assert 0.2 < heavy < 0.3
