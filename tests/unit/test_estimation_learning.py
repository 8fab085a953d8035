"""Learning service times, demand and no-shows from event rows."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.estimate import Patience
from queue_server.domain.facts import (
    HISTORY_DAYS,
    Abandonment,
    Arrival,
    Facts,
    Pause,
    ServiceSample,
    Wait,
    history_window,
)
from queue_server.domain.learning import History, learn_history
from queue_server.domain.snapshot import (
    CounterState,
    build_snapshot,
    forecast_arrivals,
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

    def test_long_complex_cases_are_set_aside_but_counted(self) -> None:
        rng = random.Random(6)
        usual = samples(490, 6.0, rng, hours_ago=30.0)
        long = [
            ServiceSample("a", 6.0 * rng.uniform(5.0, 7.0), NOW - timedelta(days=1), "c1")
            for _ in range(10)
        ]
        history = learn_history(Facts(services=(*usual, *long)), TOKYO)
        assert history.service["a"].mean == pytest.approx(6.0, rel=0.1)  # not dragged up
        assert history.long_share == pytest.approx(10 / 500, abs=0.006)
        assert 5.0 < history.long_factor < 8.0

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
        history = learn_history(Facts(services=(*fast, *slow), days=5), TOKYO)
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
        history = learn_history(Facts(arrivals=tuple(earlier), days=4), TOKYO)
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
        assert no_show_rates(history, Facts(), ["a"])["a"] == pytest.approx(0.05)
        heavy = no_show_rates(history, Facts(calls={"a": 100}, no_shows={"a": 30}), ["a"])["a"]
        assert 0.2 < heavy < 0.3

    def test_no_show_rate_and_cost_are_measured_per_category_not_assumed(self) -> None:
        facts = Facts(
            calls={"a": 400, "b": 400}, no_shows={"a": 80, "b": 4}, no_show_minutes=84 * 4.0
        )
        history = learn_history(facts, TOKYO)
        assert history.no_show_rates["a"] == pytest.approx(0.2, abs=0.02)
        assert history.no_show_rates["b"] < 0.03
        # 4 minutes each were measured: far from the 1.5 once hard-coded
        assert history.no_show_minutes == pytest.approx(4.0, abs=0.3)


def _clerk_samples(rng: random.Random) -> list[ServiceSample]:
    """Clerk "mixed" is quick at a (4 min) and slow at b (12 min); "plain" takes 6 min for both."""
    out = []
    for i in range(150):
        at = NOW - timedelta(days=1, minutes=i)
        for counter, category, mean in (
            ("mixed", "a", 4.0), ("mixed", "b", 12.0), ("plain", "a", 6.0), ("plain", "b", 6.0)
        ):  # fmt: skip
            minutes = rng.lognormvariate(math.log(mean) - 0.02, 0.2)
            out.append(ServiceSample(category, minutes, at, counter))
    return out


def test_a_clerks_pace_is_learnt_per_procedure() -> None:
    history = learn_history(Facts(services=tuple(_clerk_samples(random.Random(8)))), TOKYO)
    snapshot = build_snapshot(
        now=NOW, zone=TOKYO, priors={"a": 6.0, "b": 6.0}, counters=[], waiting={},
        history=history, today=Facts(), day_start=DAY,
    )  # fmt: skip

    def minutes(counter: str, category: str) -> float:
        mean = snapshot.service_models[category].mean
        return mean * snapshot.skill_factors[counter][category]

    assert minutes("mixed", "a") == pytest.approx(4.0, rel=0.15)
    assert minutes("mixed", "b") == pytest.approx(12.0, rel=0.15)
    assert minutes("plain", "b") == pytest.approx(6.0, rel=0.15)


class TestPausesAndGivingUp:
    def test_pause_lengths_are_learnt_by_the_hour_they_begin(self) -> None:
        pauses = [
            Pause("c1", DAY - timedelta(days=d) + timedelta(hours=12), 60.0) for d in range(20)
        ]
        pauses += [
            Pause("c2", DAY - timedelta(days=d) + timedelta(hours=10), 10.0) for d in range(20)
        ]
        history = learn_history(Facts(pauses=tuple(pauses)), TOKYO)
        assert history.pause_minutes[12] > 50.0
        assert history.pause_minutes[10] < 17.0

    def test_how_often_open_counters_break_is_learnt_by_hour(self) -> None:
        days = [DAY - timedelta(days=d) for d in range(1, 11)]
        services = tuple(
            ServiceSample("a", 5.0, day + timedelta(hours=10), f"c{k}")
            for day in days
            for k in range(4)
        )
        # on each of 10 days, 2 of the 4 counters lunch at 12 h: 20 per 40 counter-hours
        pauses = tuple(
            Pause(f"c{k}", day + timedelta(hours=12, minutes=10), 50.0)
            for day in days
            for k in range(2)
        )
        history = learn_history(Facts(services=services, pauses=pauses, days=10), TOKYO)
        assert history.pause_rates[12] == pytest.approx(20 / (40 * 60.0))
        assert 10 not in history.pause_rates
        snapshot = build_snapshot(
            now=DAY + timedelta(hours=11, minutes=30), zone=TOKYO, priors={"a": 5.0}, counters=[],
            waiting={}, history=history, today=Facts(), day_start=DAY,
        )  # fmt: skip
        forecast = snapshot.pauses
        assert forecast is not None and forecast.first_slot == pytest.approx(30.0)
        assert forecast.rates[:2] == (0.0, history.pause_rates[12])
        assert forecast.lengths[1].mean > 40.0

    def test_a_paused_counter_returns_after_a_learnt_length_with_its_spread(self) -> None:
        even = [Pause("c1", DAY - timedelta(days=d) + timedelta(hours=10), 20.0) for d in range(30)]
        uneven = [
            Pause("c1", DAY - timedelta(days=d) + timedelta(hours=10), 5.0 if d % 2 else 60.0)
            for d in range(30)
        ]
        paused = [CounterState("c1", ("a",), "paused", since=DAY + timedelta(hours=10))]
        views = []
        for pauses in (even, uneven):
            snapshot = build_snapshot(
                now=DAY + timedelta(hours=10, minutes=5), zone=TOKYO, priors={"a": 5.0},
                counters=paused, waiting={}, today=Facts(), day_start=DAY,
                history=learn_history(Facts(pauses=tuple(pauses)), TOKYO),
            )  # fmt: skip
            views.append(snapshot.counters[0])
        steady, irregular = views
        assert steady.return_model is not None and irregular.return_model is not None
        assert steady.paused_for == pytest.approx(5.0)
        assert irregular.return_model.sigma > 2 * steady.return_model.sigma

    def test_giving_up_is_learnt_as_a_hazard_by_minutes_waited(self) -> None:
        waits = tuple(Wait("a", 15.0, NOW) for _ in range(2000))
        gave_up = tuple(Abandonment("a", 50.0, NOW) for _ in range(100))
        history = learn_history(Facts(waits=waits, abandonments=gave_up), TOKYO)
        snapshot = build_snapshot(
            now=NOW, zone=TOKYO, priors={"a": 5.0}, counters=[],
            waiting={"a": [(2, NOW - timedelta(minutes=50))]}, history=history, today=Facts(),
            day_start=DAY,
        )  # fmt: skip
        patience = snapshot.patience
        assert isinstance(patience, Patience)
        # nobody left in the first quarter hour; at 45-60 minutes everyone still there is at risk
        assert patience.cumulative(15.0) == 0.0
        assert patience.cumulative(60.0) - patience.cumulative(45.0) > 0.5
        assert snapshot.waiting_minutes["a"] == (50.0,)

    def test_without_give_ups_nobody_is_expected_to_leave(self) -> None:
        history = learn_history(Facts(waits=(Wait("a", 30.0, NOW),)), TOKYO)
        snapshot = build_snapshot(
            now=NOW, zone=TOKYO, priors={"a": 5.0}, counters=[], waiting={}, history=history,
            today=Facts(), day_start=DAY,
        )  # fmt: skip
        assert snapshot.patience is None


def test_facts_compare_equal_whatever_order_they_were_collected_in() -> None:
    a = ServiceSample("a", 3.0, NOW, "c1")
    b = ServiceSample("b", 4.0, NOW - timedelta(minutes=1), "c2")
    assert Facts(services=(a, b), calls={"a": 1, "b": 0}) == Facts(services=(b, a), calls={"a": 1})


def test_the_history_window_is_four_weeks_of_calendar_days() -> None:
    assert HISTORY_DAYS == 28
    assert history_window(DAY) == (DAY - timedelta(days=28), DAY)
