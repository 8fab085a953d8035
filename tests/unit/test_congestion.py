"""The congestion lamp rises at a threshold and falls only a margin below it."""

from __future__ import annotations

import pytest

from queue_server.domain.congestion import congestion_level

THRESHOLDS = (20, 45)


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
