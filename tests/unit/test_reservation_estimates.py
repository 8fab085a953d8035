"""The estimator knows the day's bookings: walk-in waits include reservations still to come,
and a category with bookings takes its reservation arrivals from them, not the forecast."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from queue_server.domain.estimate import ArrivalForecast, CounterSnapshot, LogNormal, QueueSnapshot
from queue_server.domain.forecast import MonteCarloEstimator

NOW = datetime(2027, 2, 1, 1, 0, tzinfo=UTC)
ESTIMATE = MonteCarloEstimator(runs=200, min_runs=200)
COUNTER = (CounterSnapshot("c1", ("a",), True),)


def snap(waiting: int, **extra: object) -> QueueSnapshot:
    return QueueSnapshot(
        NOW,
        {"a": waiting},
        COUNTER,
        {"a": 10.0},
        ("a",),
        waiting_priorities={"a": (2,) * waiting},
        service_models={"a": LogNormal.from_mean(10.0, 0.2)},
        **extra,  # type: ignore[arg-type]
    )


def test_bookings_due_before_a_walk_in_is_reached_delay_it() -> None:
    plain = ESTIMATE(snap(3)).for_new_ticket("a")
    booked = ESTIMATE(snap(3, scheduled={"a": (5.0, 15.0)})).for_new_ticket("a")
    assert plain is not None and booked is not None
    # Two reservations arrive while three walk-ins are ahead: about two services more.
    assert booked.minutes == pytest.approx(plain.minutes + 20.0, abs=4.0)


def test_bookings_after_the_walk_in_is_served_change_nothing() -> None:
    plain = ESTIMATE(snap(2)).for_new_ticket("a")
    later = ESTIMATE(snap(2, scheduled={"a": (120.0,)})).for_new_ticket("a")
    assert plain is not None and later is not None
    assert later.minutes == pytest.approx(plain.minutes, abs=0.5)


def test_known_bookings_replace_the_forecast_share_of_reservations() -> None:
    # The forecast expects many reservation arrivals; the bookings say there are none.
    rush = ArrivalForecast({"a": (0.05,)}, {"a": (0.0, 1.0, 0.0)})  # half the counter
    guessed = ESTIMATE(snap(3, arrivals=rush)).for_new_ticket("a")
    known = ESTIMATE(snap(3, arrivals=rush, scheduled={"a": ()})).for_new_ticket("a")
    plain = ESTIMATE(snap(3)).for_new_ticket("a")
    assert guessed is not None and known is not None and plain is not None
    assert guessed.minutes > plain.minutes + 5
    assert known.minutes == pytest.approx(plain.minutes, abs=0.5)
