"""The first wait estimator: a forward replay of the dispatch rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from queue_server.domain.estimate import (
    CounterSnapshot,
    QueueSnapshot,
    WaitEstimate,
    forward_estimate,
)

NOW = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def snapshot(
    waiting: dict[str, int], counters: list[CounterSnapshot], means: dict[str, float]
) -> QueueSnapshot:
    return QueueSnapshot(NOW, waiting, tuple(counters), means, tuple(means))


def test_single_counter_is_people_ahead_times_service_time() -> None:
    est = forward_estimate(snapshot({"a": 3}, [CounterSnapshot("c1", ("a",), True)], {"a": 4.0}))
    assert [e.minutes for e in est.by_rank["a"]] == [0.0, 4.0, 8.0, 12.0]
    assert est.for_new_ticket("a").minutes == 12.0


def test_shared_counter_serves_its_primary_category_first() -> None:
    # c1 serves a then b; c2 serves only b. Two b tickets: c2 takes one, then c1 (free, a empty).
    counters = [CounterSnapshot("c1", ("a", "b"), True), CounterSnapshot("c2", ("b",), True)]
    est = forward_estimate(snapshot({"a": 2, "b": 2}, counters, {"a": 5.0, "b": 10.0}))
    assert [e.minutes for e in est.by_rank["a"]] == [0.0, 5.0, 10.0]
    # b: c2 at 0, c2 at 10 (c1 busy with a until 10; tie broken by counter order -> c1 at 10)
    assert [e.minutes for e in est.by_rank["b"]][:2] == [0.0, 10.0]


def test_busy_counter_finishes_its_current_service_first() -> None:
    counter = CounterSnapshot(
        "c1", ("a",), True, busy_category="a", busy_since=NOW - timedelta(minutes=1)
    )
    est = forward_estimate(snapshot({"a": 1}, [counter], {"a": 5.0}))
    assert est.for_rank("a", 0).minutes == pytest.approx(4.0)


def test_paused_counters_do_not_count_and_unserved_categories_have_no_estimate() -> None:
    counters = [CounterSnapshot("c1", ("a",), False), CounterSnapshot("c2", ("b",), True)]
    est = forward_estimate(snapshot({"a": 2, "b": 0}, counters, {"a": 5.0, "b": 5.0}))
    assert est.for_new_ticket("a") is None
    assert est.for_rank("a", 0) is None
    assert est.for_new_ticket("b").minutes == 0.0


def test_interval_contains_the_estimate() -> None:
    est = forward_estimate(snapshot({"a": 5}, [CounterSnapshot("c1", ("a",), True)], {"a": 6.0}))
    e = est.for_new_ticket("a")
    assert e.low <= e.minutes <= e.high
    assert e.rounded() == (30, 17, 47)
    assert WaitEstimate(2.4, 0.4, 4.6).rounded() == (2, 0, 5)  # nearest, not outwards


def test_recomputing_for_a_large_queue_is_fast() -> None:
    import time

    counters = [CounterSnapshot(f"c{i}", (*("a", "b", "c")[i % 3 :], "a"), True) for i in range(10)]
    snap = snapshot({"a": 60, "b": 50, "c": 40}, counters, {"a": 4.0, "b": 8.0, "c": 12.0})
    start = time.perf_counter()
    for _ in range(20):
        forward_estimate(snap)
    assert (time.perf_counter() - start) / 20 < 0.05


def test_monte_carlo_falls_back_to_the_replay_for_extreme_queues() -> None:
    import time

    from queue_server.domain.forecast import MonteCarloEstimator

    counters = [CounterSnapshot(f"c{i}", ("a",), True) for i in range(4)]
    snap = snapshot({"a": 3000}, counters, {"a": 4.0})
    start = time.perf_counter()
    result = MonteCarloEstimator()(snap)
    assert time.perf_counter() - start < 0.5
    assert result.for_new_ticket("a") == forward_estimate(snap).for_new_ticket("a")
