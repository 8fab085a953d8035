"""The ticket lifecycle from DESIGN.md: legal moves record a transition, illegal ones raise."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from queue_server.domain.errors import IllegalTransition
from queue_server.domain.ticket import Action, Priority, Ticket, TicketState

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def new_ticket() -> Ticket:
    return Ticket.issue(
        office_id="o",
        business_date=date(2026, 11, 26),
        category_id="certificates",
        number=12,
        display_number="A-012",
        public_id="p",
        priority=Priority.NORMAL,
        language="ja",
        at=T0,
    )


def test_full_visit_records_every_transition() -> None:
    ticket = new_ticket()
    ticket.call("c1", T0 + timedelta(minutes=5))
    ticket.recall(T0 + timedelta(minutes=6))
    ticket.start(T0 + timedelta(minutes=7))
    ticket.hold(T0 + timedelta(minutes=8))
    ticket.resume(T0 + timedelta(minutes=9))
    ticket.finish(T0 + timedelta(minutes=15))
    assert ticket.state is TicketState.DONE
    assert ticket.recall_count == 1
    assert [t.action for t in ticket.transitions] == [
        Action.ISSUE,
        Action.CALL,
        Action.RECALL,
        Action.START,
        Action.HOLD,
        Action.RESUME,
        Action.FINISH,
    ]
    assert ticket.transitions[-1].service_minutes == pytest.approx(10.0)


def test_transfer_keeps_the_number_and_requeues_in_the_new_category() -> None:
    ticket = new_ticket()
    ticket.call("c1", T0 + timedelta(minutes=1))
    ticket.transfer("insurance", T0 + timedelta(minutes=4))
    assert (ticket.state, ticket.category_id, ticket.display_number) == (
        TicketState.ISSUED,
        "insurance",
        "A-012",
    )
    assert ticket.counter_id is None
    assert ticket.queued_at == T0 + timedelta(minutes=4)
    last = ticket.transitions[-1]
    assert (last.from_category_id, last.category_id, last.service_minutes) == (
        "certificates",
        "insurance",
        pytest.approx(3.0),
    )


def test_no_show_can_come_back_at_its_original_place() -> None:
    ticket = new_ticket()
    ticket.call("c1", T0 + timedelta(minutes=1))
    ticket.no_show(T0 + timedelta(minutes=3))
    ticket.come_back(T0 + timedelta(minutes=20))
    assert ticket.state is TicketState.ISSUED
    assert ticket.queued_at == T0


@pytest.mark.parametrize(
    ("prepare", "action"),
    [
        ([], "start"),
        ([], "finish"),
        ([], "recall"),
        ([], "no_show"),
        ([], "hold"),
        (["call"], "resume"),
        (["call"], "come_back"),
        (["call", "finish"], "cancel"),
        (["call", "finish"], "call"),
        (["cancel"], "come_back"),
    ],
)
def test_illegal_moves_are_refused_and_change_nothing(prepare: list[str], action: str) -> None:
    ticket = new_ticket()
    for step in prepare:
        getattr(ticket, step)(*(["c1"] if step == "call" else []), T0 + timedelta(minutes=1))
    before = (ticket.state, len(ticket.transitions), ticket.category_id)
    args = ["c2"] if action == "call" else []
    with pytest.raises(IllegalTransition, match="cannot"):
        getattr(ticket, action)(*args, T0 + timedelta(minutes=2))
    assert (ticket.state, len(ticket.transitions), ticket.category_id) == before


def test_transfer_refused_while_waiting_leaves_category_unchanged() -> None:
    ticket = new_ticket()
    with pytest.raises(IllegalTransition):
        ticket.transfer("insurance", T0)
    assert ticket.category_id == "certificates"


def test_transfer_to_the_same_category_is_refused() -> None:
    ticket = new_ticket()
    ticket.call("c1", T0)
    with pytest.raises(IllegalTransition, match="already"):
        ticket.transfer("certificates", T0)


def test_priority_ranks_assistance_first() -> None:
    ranks = sorted(Priority, key=lambda p: p.rank)
    assert ranks == [Priority.ASSISTANCE, Priority.RESERVATION, Priority.NORMAL]
