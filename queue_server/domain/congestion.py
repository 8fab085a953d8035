"""The congestion lamp (混雑ランプ): a level per procedure from its wait, without flicker.

A lamp that follows the estimate exactly flips between two colours whenever the wait sits near a
threshold. The level therefore rises as soon as the wait reaches a threshold, but falls only once
the wait is a margin below it (hysteresis).

The lamp reads both the estimated wait and the number of people waiting, and shows the higher of
the two levels: a short estimate (many counters open) next to 「10人」 must not say 空いています,
because a visitor reads the count too. The same hysteresis applies to each. Each office sets both
pairs of thresholds (`[congestion]` in its office file); `DEFAULT_LAMP` holds the defaults.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LEVELS = ("low", "mid", "high")


@dataclass(frozen=True)
class LampThresholds:
    """Where the lamp turns yellow, then red: by estimated minutes and by people waiting."""

    minutes: tuple[int, int] = (20, 45)
    people: tuple[int, int] = (5, 15)


#: The lamp of an office whose file has no `[congestion]` table.
DEFAULT_LAMP = LampThresholds()


def margin(threshold: int) -> int:
    """How far below a threshold the wait must fall before the lamp steps down."""
    return max(2, threshold // 10)


def congestion_level(minutes: int, thresholds: Sequence[int], previous: str | None = None) -> str:
    """`low`, `mid` or `high` for a wait of `minutes`, given the lamp's previous level."""
    level = min(sum(1 for threshold in thresholds if minutes >= threshold), len(LEVELS) - 1)
    if previous in LEVELS:
        before = LEVELS.index(previous)
        # Falling: keep the highest earlier step whose threshold the wait is still near.
        for step in range(before, level, -1):
            threshold = thresholds[step - 1]
            if minutes >= threshold - margin(threshold):
                level = step
                break
    return LEVELS[level]


def lamp_level(
    minutes: int,
    waiting: int,
    thresholds: LampThresholds = DEFAULT_LAMP,
    previous: str | None = None,
) -> str:
    """The lamp: the higher of the levels by estimated minutes and by people waiting."""
    by_minutes = congestion_level(minutes, thresholds.minutes, previous)
    by_people = congestion_level(waiting, thresholds.people, previous)
    return LEVELS[max(LEVELS.index(by_minutes), LEVELS.index(by_people))]
