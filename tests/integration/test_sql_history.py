"""`read_facts` reads from the live tables exactly the facts the backtest builds from a log."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, insert

from queue_server.adapters import tables as t
from queue_server.adapters.database import create_database_engine, upgrade
from queue_server.adapters.office_file import DEMO_OFFICE, parse_office, read_office_file
from queue_server.adapters.sql_history import read_facts
from queue_server.backtest.events import log_facts
from queue_server.backtest.log import Session, TicketRecord
from queue_server.domain.facts import Abandonment, Pause, ServiceSample, Wait
from queue_server.domain.learning import learn_history
from queue_server.simulation.engine import open_days, simulate_days
from queue_server.simulation.model import model_from_office

OFFICE = parse_office(read_office_file(DEMO_OFFICE))
ZONE = OFFICE.zone
OFFICE_ID = "test-office"
RANKS = {"assistance": 0, "reservation": 1, "normal": 2}
# At one instant a counter opens before it calls, and calls before it pauses.
_OPEN, _CALLED, _STOPPED = range(3)


def _office_row(connection: Connection) -> None:
    connection.execute(
        insert(t.offices).values(
            id=OFFICE_ID, config={}, seq=0, closed_through=None, updated_at=datetime.now(UTC)
        )
    )


def write_log(
    connection: Connection, records: Sequence[TicketRecord], sessions: Sequence[Session]
) -> None:
    """The rows the live server would have written for this log (tickets, transitions, events)."""
    _office_row(connection)
    tickets: list[dict[str, Any]] = []
    transitions: list[dict[str, Any]] = []
    events: list[tuple[datetime, int, str, dict[str, Any]]] = []
    numbers: dict[tuple[date, str], int] = {}

    def move(ticket_id: int, r: TicketRecord, action: str, frm: str | None, to: str, at: datetime,
             minutes: float | None = None) -> None:  # fmt: skip
        transitions.append(
            {
                "ticket_id": ticket_id, "office_id": OFFICE_ID, "action": action,
                "from_state": frm, "to_state": to, "at": at, "category_id": r.category_id,
                "from_category_id": None, "counter_id": r.counter_id if frm else None,
                "actor": None, "service_minutes": minutes,
            }
        )  # fmt: skip

    for ticket_id, r in enumerate(records, start=1):
        day = r.issued_at.astimezone(ZONE).date()
        number = numbers[(day, r.category_id)] = numbers.get((day, r.category_id), 0) + 1
        tickets.append(
            {
                "id": ticket_id, "office_id": OFFICE_ID, "business_date": day,
                "origin_category_id": r.category_id, "category_id": r.category_id,
                "number": number, "display_number": str(number), "public_id": r.ticket_id,
                "priority": r.priority, "priority_rank": RANKS[r.priority], "language": "ja",
                "state": r.outcome, "issued_at": r.issued_at, "queued_at": r.issued_at,
                "called_at": r.called_at, "started_at": r.started_at,
                "finished_at": r.finished_at, "counter_id": r.counter_id, "recall_count": 0,
            }
        )  # fmt: skip
        move(ticket_id, r, "issue", None, "issued", r.issued_at)
        if r.called_at is None:
            assert r.finished_at is not None
            late = r.finished_at.astimezone(ZONE).time() >= time(17, 15)
            move(ticket_id, r, "close-out" if late else "cancel", "issued", "cancelled",
                 r.finished_at)  # fmt: skip
            continue
        assert r.finished_at is not None and r.counter_id is not None
        move(ticket_id, r, "call", "issued", "called", r.called_at)
        events.append((r.called_at, _CALLED, "ticket.called", {"counter_id": r.counter_id}))
        if r.outcome == "no_show":
            move(ticket_id, r, "no-show", "called", "no_show", r.finished_at)
            continue
        state = "called"
        if r.started_at is not None:
            move(ticket_id, r, "start", "called", "serving", r.started_at)
            state = "serving"
        minutes = max(0.0, (r.finished_at - r.called_at).total_seconds() / 60.0)
        move(ticket_id, r, "finish", state, "done", r.finished_at, minutes)

    by_counter: dict[str, list[Session]] = {}
    for s in sessions:
        by_counter.setdefault(s.counter_id, []).append(s)
    for counter_id, rows in by_counter.items():
        rows.sort(key=lambda s: s.open_at)
        for i, s in enumerate(rows):
            last = (
                i + 1 == len(rows)
                or rows[i + 1].open_at.astimezone(ZONE).date() != s.close_at.astimezone(ZONE).date()
            )
            opened = {"counter_id": counter_id, "detail": {"state": "open"}}
            events.append((s.open_at, _OPEN, "counter.changed", opened))
            stopped = {
                "counter_id": counter_id,
                "detail": {"state": "closed" if last else "paused"},
            }
            events.append((s.close_at, _STOPPED, "counter.changed", stopped))
    events.sort(key=lambda e: (e[0], e[1]))

    connection.execute(insert(t.tickets), tickets)
    connection.execute(insert(t.ticket_transitions), transitions)
    connection.execute(
        insert(t.office_events),
        [
            {
                "office_id": OFFICE_ID,
                "seq": seq,
                "type": kind,
                "at": at,
                "payload": {"type": kind, "at": at.isoformat(), **payload},
            }
            for seq, (at, _, kind, payload) in enumerate(events, start=1)
        ],
    )


@pytest.fixture(scope="module")
def simulated() -> tuple[list[TicketRecord], list[Session], list[date]]:
    # Impatient visitors and frequent no-shows, so every kind of fact shows up in two small days.
    model = dataclasses.replace(
        model_from_office(OFFICE, seed=5, tickets_per_day=220),
        patience_share=0.6,
        patience_median=20.0,
        no_show=0.1,
    )
    dates = open_days(date(2027, 2, 1), 2)
    days = simulate_days(model, dates, seed=5)
    records = [r for d in days for r in d.records]
    sessions = [s for d in days for s in d.sessions]
    return records, sessions, dates


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZONE)


class TestLiveAndReplayAgree:
    def test_the_database_gives_the_facts_and_history_the_log_gives(
        self, database_url: str, simulated: tuple[list[TicketRecord], list[Session], list[date]]
    ) -> None:
        records, sessions, dates = simulated
        engine = create_database_engine(database_url)
        upgrade(engine)
        with engine.begin() as connection:
            write_log(connection, records, sessions)
        spans = [
            (_midnight(dates[0]), _midnight(dates[-1]) + timedelta(days=1)),  # earlier days
            (_midnight(dates[1]), _midnight(dates[1]) + timedelta(hours=11, minutes=7)),  # today
        ]
        try:
            with engine.connect() as connection:
                for since, until in spans:
                    live = read_facts(connection, OFFICE_ID, since, until, ZONE)
                    logged = log_facts(records, sessions, since, until, ZONE)
                    assert live == logged
                    assert learn_history(live, ZONE) == learn_history(logged, ZONE)
        finally:
            engine.dispose()
        whole = log_facts(records, sessions, *spans[0], ZONE)
        assert whole.days == 2
        # every kind of fact is present, so the comparison above means something
        assert whole.services and whole.waits and whole.pauses
        assert len(whole.abandonments) >= 3 and sum(whole.no_shows.values()) > 10
        assert whole.no_show_minutes > 0.5 * sum(whole.no_shows.values())


def test_read_facts_follows_transfers_no_shows_give_ups_and_pauses(sqlite_url: str) -> None:
    """The live-only shapes: a transfer, and a pause ended by a call rather than a reopening."""
    engine = create_database_engine(sqlite_url)
    upgrade(engine)
    nine = datetime(2027, 2, 1, 9, 0, tzinfo=ZONE)

    def at(minutes: float) -> datetime:
        return nine + timedelta(minutes=minutes)

    def row(ticket_id: int, action: str, frm: str | None, to: str, m: float, cat: str = "x",
            **extra: Any) -> dict[str, Any]:  # fmt: skip
        # executemany takes its columns from the first row: every row names them all
        return {
            "ticket_id": ticket_id,
            "office_id": OFFICE_ID,
            "action": action,
            "from_state": frm,
            "to_state": to,
            "at": at(m),
            "category_id": cat,
            "counter_id": None,
            "from_category_id": None,
            "service_minutes": None,
            **extra,
        }

    with engine.begin() as c:
        _office_row(c)
        c.execute(
            insert(t.tickets),
            [
                {
                    "id": i,
                    "office_id": OFFICE_ID,
                    "business_date": nine.date(),
                    "origin_category_id": "x",
                    "category_id": cat,
                    "number": i,
                    "display_number": str(i),
                    "public_id": f"p{i}",
                    "priority": "normal",
                    "priority_rank": 2,
                    "language": "ja",
                    "state": state,
                    "issued_at": at(i),
                    "queued_at": at(i),
                    "recall_count": 0,
                }
                for i, cat, state in ((1, "y", "done"), (2, "x", "no_show"), (3, "x", "cancelled"))
            ],
        )
        c.execute(
            insert(t.ticket_transitions),
            [
                row(1, "issue", None, "issued", 1),
                row(1, "call", "issued", "called", 10, counter_id="c1"),
                row(
                    1,
                    "transfer",
                    "called",
                    "issued",
                    20,
                    cat="y",
                    from_category_id="x",
                    counter_id="c1",
                    service_minutes=10.0,
                ),
                row(1, "call", "issued", "called", 30, cat="y", counter_id="c2"),
                row(
                    1, "finish", "called", "done", 35, cat="y", counter_id="c2", service_minutes=5.0
                ),
                row(2, "issue", None, "issued", 2),
                row(2, "call", "issued", "called", 12, counter_id="c3"),
                row(2, "recall", "called", "called", 13, counter_id="c3"),
                row(2, "no-show", "called", "no_show", 15, counter_id="c3"),
                row(3, "issue", None, "issued", 3),
                row(3, "cancel", "issued", "cancelled", 43),
            ],
        )
        c.execute(
            insert(t.office_events),
            [
                {"office_id": OFFICE_ID, "seq": seq, "type": kind, "at": at(m), "payload": p}
                for seq, (kind, m, p) in enumerate(
                    [
                        (
                            "counter.changed",
                            60,
                            {"counter_id": "c1", "detail": {"state": "paused"}},
                        ),
                        ("ticket.issued", 65, {"counter_id": None}),
                        ("ticket.called", 80, {"counter_id": "c1"}),
                        (
                            "counter.changed",
                            420,
                            {"counter_id": "c2", "detail": {"state": "closed"}},
                        ),
                        (
                            "counter.changed",
                            1440,
                            {"counter_id": "c2", "detail": {"state": "open"}},
                        ),
                    ],
                    start=1,
                )
            ],
        )
    with engine.connect() as c:
        facts = read_facts(c, OFFICE_ID, nine - timedelta(hours=9), at(24 * 60 + 60), ZONE)
    engine.dispose()

    assert [(a.category_id, a.at) for a in facts.arrivals] == [
        ("x", at(1)), ("x", at(2)), ("x", at(3)), ("y", at(20))
    ]  # fmt: skip
    assert facts.services == (
        ServiceSample("x", 10.0, at(20), "c1"),
        ServiceSample("y", 5.0, at(35), "c2"),
    )
    assert facts.waits == (
        Wait("x", 9.0, at(10)), Wait("x", 10.0, at(12)), Wait("y", 10.0, at(30))
    )  # fmt: skip
    assert facts.calls == {"x": 2, "y": 1} and facts.no_shows == {"x": 1}
    assert facts.no_show_minutes == pytest.approx(3.0)  # measured from the call, not assumed
    assert facts.abandonments == (Abandonment("x", 40.0, at(43)),)
    # c1's pause ends with its next call; c2 closed for the night is no pause
    assert facts.pauses == (Pause("c1", at(60), 20.0),)
    assert facts.days == 1  # the next day's reopening is inside the span, but no ticket came
