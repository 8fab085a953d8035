"""The dispatch rule over simulated days (domain.dispatch.next_in_queue, the live server's rule).

One procedure with two counters, 08:30-17:00, 15-minute services (log-normal), walk-ins arriving
at random (Poisson, busier mid-morning), and 30-minute slots taking two bookings each. The same
visitors come on both kinds of day: on a day with reservations the booked ones check in 0-25
minutes before their slot; on a day without, they walk in at their slot time instead.

Measured over 40 seeded days (printed with `-s`):
- X: reservations are called within X minutes after their slot (95th percentile);
- Y: the walk-ins' mean wait is at most Y minutes worse than on the day without reservations.
"""

from __future__ import annotations

import heapq
import math
import random
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from queue_server.domain.dispatch import next_in_queue
from queue_server.domain.ticket import Priority, Ticket

DAY = date(2027, 2, 1)
OPEN = datetime(2027, 2, 1, 8, 30, tzinfo=UTC)  # minutes are what matter, not the zone
CLOSE_MINUTES = 510  # 17:00
SERVICE_MEAN = 15.0
COUNTERS = 2
SLOTS = [30 + 30 * i for i in range(15) if 30 + 30 * i not in (210, 240)]  # 09:00-16:00, lunch
PER_SLOT = 2
X_MINUTES = 20.0  # the bounds the test holds the rule to
Y_MINUTES = 10.0


@dataclass
class Visitor:
    arrives: float  # minutes after opening
    slot: float | None  # booked slot start, minutes after opening
    service: float


def _ticket(number: int, visitor: Visitor, reserved: bool) -> Ticket:
    at = OPEN + timedelta(minutes=visitor.arrives)
    ticket = Ticket.issue(
        office_id="o",
        business_date=DAY,
        category_id="c",
        number=number,
        display_number=str(number),
        public_id=str(number),
        priority=Priority.RESERVATION if reserved else Priority.NORMAL,
        language="ja",
        at=at,
    )
    ticket.id = number
    if reserved and visitor.slot is not None and visitor.slot > visitor.arrives:
        ticket.queued_at = OPEN + timedelta(minutes=visitor.slot)  # as issuing does
    return ticket


def _visitors(seed: int) -> list[Visitor]:
    rng = random.Random(seed)
    sigma = 0.4
    mu = math.log(SERVICE_MEAN) - sigma**2 / 2

    def service() -> float:
        return math.exp(rng.gauss(mu, sigma))

    out = []
    t = 0.0
    while True:  # walk-ins: about 70% of two counters with the bookings added
        busy = 1.3 if 60 <= t <= 180 else 0.9
        t += rng.expovariate(busy * COUNTERS * 0.55 / SERVICE_MEAN)
        if t >= CLOSE_MINUTES - 30:
            break
        out.append(Visitor(t, None, service()))
    for slot in SLOTS:
        for _ in range(PER_SLOT):
            if rng.random() < 0.9:  # some booked slots stay empty
                out.append(Visitor(slot - rng.uniform(0, 25), float(slot), service()))
    return out


def _simulate(visitors: list[Visitor], with_reservations: bool) -> tuple[list[float], list[float]]:
    """Walk-ins' waits, and reservations' calls after their slot (minutes)."""
    arrivals = []
    for number, v in enumerate(visitors, start=1):
        reserved = with_reservations and v.slot is not None
        arrives = v.arrives if reserved or v.slot is None else v.slot
        seen = Visitor(arrives, v.slot, v.service)
        arrivals.append((arrives, number, seen, reserved))
    arrivals.sort()
    waiting: dict[int, tuple[Ticket, Visitor, bool]] = {}
    free = [0.0] * COUNTERS
    heapq.heapify(free)
    walk_in_waits: list[float] = []
    lateness: list[float] = []
    i = 0
    now = 0.0
    while i < len(arrivals) or waiting:
        now = max(now, heapq.heappop(free))
        while i < len(arrivals) and arrivals[i][0] <= now:
            arrives, number, visitor, reserved = arrivals[i]
            waiting[number] = (_ticket(number, visitor, reserved), visitor, reserved)
            i += 1
        if not waiting:
            heapq.heappush(free, arrivals[i][0])  # idle until the next arrival
            continue
        head = next_in_queue(
            (ticket for ticket, _, _ in waiting.values()), OPEN + timedelta(minutes=now)
        )
        assert head is not None and head.id is not None
        _, visitor, reserved = waiting.pop(head.id)
        if reserved:
            assert visitor.slot is not None
            lateness.append(max(0.0, now - visitor.slot))
        elif visitor.slot is None:  # a real walk-in (not a booked visitor walking in)
            walk_in_waits.append(now - visitor.arrives)
        heapq.heappush(free, now + visitor.service)
    return walk_in_waits, lateness


def test_reservations_keep_their_slot_and_walk_ins_keep_their_share() -> None:
    late: list[float] = []
    worse: list[float] = []
    for seed in range(40):
        visitors = _visitors(seed)
        walk_ins, lateness = _simulate(visitors, with_reservations=True)
        baseline, _ = _simulate(visitors, with_reservations=False)
        # The same walk-ins on both days (the booked visitors are counted on neither).
        late.extend(lateness)
        worse.append(statistics.fmean(walk_ins) - statistics.fmean(baseline))
    late.sort()
    x = late[int(0.95 * (len(late) - 1))]
    y = max(statistics.fmean(worse), 0.0)
    print(
        f"\nreservations called within {x:.1f} min of their slot (95th percentile, "
        f"median {statistics.median(late):.1f}); walk-ins' mean wait "
        f"{statistics.fmean(worse):+.1f} min (worst day {max(worse):+.1f}) vs no reservations"
    )
    assert x <= X_MINUTES
    assert y <= Y_MINUTES
