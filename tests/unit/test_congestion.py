"""The congestion lamp rises at a threshold and falls only a margin below it."""

from __future__ import annotations

import pytest

from queue_server.domain.congestion import LampThresholds, congestion_level, lamp_level

THRESHOLDS = (20, 45)
DEFAULTS = LampThresholds()


@pytest.mark.parametrize(
    ("minutes", "level"), [(0, "low"), (19, "low"), (20, "mid"), (44, "mid"), (45, "high")]
)
def test_without_history_the_level_follows_the_thresholds(minutes: int, level: str) -> None:
    assert congestion_level(minutes, THRESHOLDS) == level


def test_a_wait_wavering_around_a_threshold_does_not_flicker() -> None:
    level = congestion_level(46, THRESHOLDS)
    shown = []
    for minutes in (44, 45, 43, 46, 42, 44):
        level = congestion_level(minutes, THRESHOLDS, level)
        shown.append(level)
    assert shown == ["high"] * 6


def test_the_lamp_falls_once_the_wait_is_clearly_below() -> None:
    assert congestion_level(40, THRESHOLDS, "high") == "mid"
    assert congestion_level(17, THRESHOLDS, "high") == "low"
    assert congestion_level(18, THRESHOLDS, "mid") == "mid"
    assert congestion_level(17, THRESHOLDS, "mid") == "low"


def test_it_rises_at_once() -> None:
    assert congestion_level(45, THRESHOLDS, "low") == "high"


def test_many_people_waiting_are_never_shown_as_not_busy() -> None:
    # A short estimate (many counters) with ten people waiting: the visitor reads the count.
    assert lamp_level(3, 10, DEFAULTS) == "mid"
    assert lamp_level(3, 15, DEFAULTS) == "high"
    assert lamp_level(3, 4, DEFAULTS) == "low"
    assert lamp_level(50, 1, DEFAULTS) == "high"


def test_the_people_count_has_the_same_hysteresis() -> None:
    assert lamp_level(0, 4, DEFAULTS, previous="mid") == "mid"
    assert lamp_level(0, 2, DEFAULTS, previous="mid") == "low"


def test_the_defaults_are_twenty_and_forty_five_minutes_five_and_fifteen_people() -> None:
    assert LampThresholds(minutes=(20, 45), people=(5, 15)) == DEFAULTS


def test_an_office_with_other_thresholds_gets_another_lamp() -> None:
    # A small branch office (支所) where three people already fill the waiting area.
    small = LampThresholds(minutes=(10, 20), people=(2, 3))
    assert lamp_level(3, 3, DEFAULTS) == "low"
    assert lamp_level(3, 3, small) == "high"
    assert lamp_level(12, 0, small) == "mid"
    assert lamp_level(12, 0, DEFAULTS) == "low"
