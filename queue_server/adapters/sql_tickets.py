"""Tickets, their transitions and numbers on SQLAlchemy Core (`TicketStore`, `NumberStore`).

A `Ticket` and its row share one mapping (`_TICKET_FIELDS`); every transition also keeps
`waiting_counts` (tickets waiting per day, procedure and priority) so people ahead are read,
not counted row by row.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Row

from queue_server.adapters import tables as t
from queue_server.adapters.database import new_id
from queue_server.domain.ticket import AT_COUNTER_STATES, OPEN_STATES, Priority, Ticket, TicketState
from queue_server.service.ports import RecentCall, WaitingTicket

#: The one mapping between `Ticket` and a row of `tickets`: these attributes are columns of the
#: same name (`priority` and `state` stored as their values).
_TICKET_FIELDS = (
    "office_id", "business_date", "category_id", "number", "display_number", "public_id",
    "priority", "language", "state", "issued_at", "queued_at", "called_at", "started_at",
    "finished_at", "counter_id", "recall_count", "print_outcome", "print_reason",
)  # fmt: skip
#: What the lifecycle changes (`save_ticket`); the slip's outcome has its own write.
_LIFECYCLE_FIELDS = (
    "category_id", "state", "queued_at", "called_at", "started_at", "finished_at", "counter_id",
    "recall_count",
)  # fmt: skip


def _columns(ticket: Ticket, fields: tuple[str, ...] = _TICKET_FIELDS) -> dict[str, Any]:
    """A ticket's values for `fields`, as stored."""
    values = {name: getattr(ticket, name) for name in fields}
    for name in ("priority", "state"):
        if name in values:
            values[name] = values[name].value
    return values


def _ticket(row: Row[Any]) -> Ticket:
    m = row._mapping
    values = {name: m[name] for name in _TICKET_FIELDS}
    values["priority"] = Priority(values["priority"])
    values["state"] = TicketState(values["state"])
    return Ticket(id=m["id"], **values)


def _select_tickets() -> Any:
    return select(t.tickets.c.id, *(t.tickets.c[name] for name in _TICKET_FIELDS))


_QUEUE_ORDER = (t.tickets.c.priority_rank, t.tickets.c.queued_at, t.tickets.c.number)


# The statements of the issue path, built once: building a statement per call costs more than
# SQLite takes to run it.
_n, _w = t.number_sequences.c, t.waiting_counts.c
_TAKE_NUMBER = (
    update(t.number_sequences)
    .where(
        _n.office_id == bindparam("b_office"),
        _n.category_id == bindparam("b_category"),
        _n.business_date == bindparam("b_day"),
    )
    .values(last_number=_n.last_number + 1)
    .returning(_n.last_number)
)
_WAITING_AHEAD = select(func.coalesce(func.sum(_w.waiting), 0)).where(
    _w.office_id == bindparam("b_office"),
    _w.business_date == bindparam("b_day"),
    _w.category_id == bindparam("b_category"),
    _w.priority_rank <= bindparam("b_rank"),
)
_COUNT_WAITING = (
    update(t.waiting_counts)
    .where(
        _w.office_id == bindparam("b_office"),
        _w.business_date == bindparam("b_day"),
        _w.category_id == bindparam("b_category"),
        _w.priority_rank == bindparam("b_rank"),
    )
    .values(waiting=_w.waiting + bindparam("b_delta"))
)
_INSERT_NUMBER = insert(t.number_sequences)
_INSERT_WAITING = insert(t.waiting_counts)
_INSERT_TICKET = insert(t.tickets)


class SqlNumberStore:
    """Gap-free numbers per category and business date (under the office lock)."""

    _c: Connection
    _office_id: str

    def take_number(self, category_id: str, day: date, first: int) -> int:
        """The next number of (category, day), starting at `first`; one round trip when the
        day's row exists. The caller checks caps and ranges: its savepoint undoes a refusal."""
        number = self._c.execute(
            _TAKE_NUMBER, {"b_office": self._office_id, "b_category": category_id, "b_day": day}
        ).scalar_one_or_none()
        if number is not None:
            return int(number)
        self._c.execute(
            _INSERT_NUMBER,
            {
                "office_id": self._office_id,
                "category_id": category_id,
                "business_date": day,
                "last_number": first,
            },
        )
        return first

    def last_numbers(self, day: date) -> dict[str, int]:
        s = t.number_sequences.c
        rows = self._c.execute(
            select(s.category_id, s.last_number).where(
                s.office_id == self._office_id, s.business_date == day
            )
        )
        return {r.category_id: r.last_number for r in rows}


class SqlTicketStore:
    """Tickets of one office: the lifecycle, the queue in call order, calls."""

    _c: Connection
    _office_id: str
    _pending_transitions: list[dict[str, Any]]

    def issued_by(self, ticket_id: int) -> str | None:
        found = self._c.execute(
            select(t.tickets.c.device).where(
                t.tickets.c.id == ticket_id, t.tickets.c.office_id == self._office_id
            )
        ).scalar_one_or_none()
        return None if found is None else str(found)

    def add_ticket(self, ticket: Ticket, device: str | None) -> None:
        result = self._c.execute(
            _INSERT_TICKET,
            {
                **_columns(ticket),
                "origin_category_id": ticket.category_id,
                "priority_rank": ticket.priority.rank,
                "queued_at": ticket.queued_at or ticket.issued_at,
                "device": device,
            },
        )
        ticket.id = new_id(result)
        self._write_transitions(ticket, device)

    def waiting_ahead(self, category_id: str, day: date, rank: int) -> int:
        """Tickets waiting in `category_id` that a new ticket of priority `rank` queues behind."""
        total = self._c.execute(
            _WAITING_AHEAD,
            {"b_office": self._office_id, "b_day": day, "b_category": category_id, "b_rank": rank},
        ).scalar_one()
        return int(total)

    def _count_waiting(self, ticket: Ticket, category_id: str, delta: int) -> None:
        key = {
            "b_office": self._office_id,
            "b_day": ticket.business_date,
            "b_category": category_id,
            "b_rank": ticket.priority.rank,
        }
        updated = self._c.execute(_COUNT_WAITING, {**key, "b_delta": delta})
        if updated.rowcount == 0:
            self._c.execute(
                _INSERT_WAITING,
                {
                    "office_id": self._office_id,
                    "business_date": ticket.business_date,
                    "category_id": category_id,
                    "priority_rank": ticket.priority.rank,
                    "waiting": delta,
                },
            )

    def save_ticket(self, ticket: Ticket, actor: str | None) -> None:
        self._c.execute(
            update(t.tickets)
            .where(t.tickets.c.id == ticket.id)
            .values(_columns(ticket, _LIFECYCLE_FIELDS))
        )
        self._write_transitions(ticket, actor)

    def _write_transitions(self, ticket: Ticket, actor: str | None) -> None:
        if not ticket.transitions:
            return
        for tr in ticket.transitions:
            if tr.from_state is TicketState.ISSUED:
                self._count_waiting(ticket, tr.from_category_id or tr.category_id, -1)
            if tr.to_state is TicketState.ISSUED:
                self._count_waiting(ticket, tr.category_id, +1)
        # Written with the transaction's other rows, in one statement (SqlQueueStore.flush).
        self._pending_transitions.extend(
            [
                {
                    "ticket_id": ticket.id,
                    "office_id": ticket.office_id,
                    "action": tr.action.value,
                    "from_state": tr.from_state.value if tr.from_state else None,
                    "to_state": tr.to_state.value,
                    "at": tr.at,
                    "category_id": tr.category_id,
                    "from_category_id": tr.from_category_id,
                    "counter_id": tr.counter_id,
                    "actor": actor,
                    "service_minutes": tr.service_minutes,
                }
                for tr in ticket.transitions
            ]
        )
        ticket.transitions.clear()

    def _one(self, *where: Any) -> Ticket | None:
        row = self._c.execute(
            _select_tickets().where(t.tickets.c.office_id == self._office_id, *where)
        ).first()
        return None if row is None else _ticket(row)

    def _many(
        self, *where: Any, order: Any = _QUEUE_ORDER, limit: int | None = None
    ) -> list[Ticket]:
        query = (
            _select_tickets()
            .where(t.tickets.c.office_id == self._office_id, *where)
            .order_by(*order)
        )
        if limit is not None:
            query = query.limit(limit)
        return [_ticket(row) for row in self._c.execute(query)]

    def ticket(self, ticket_id: int) -> Ticket | None:
        return self._one(t.tickets.c.id == ticket_id)

    def ticket_by_public_id(self, public_id: str) -> Ticket | None:
        return self._one(t.tickets.c.public_id == public_id)

    def head_of_queue(self, category_id: str, day: date) -> Ticket | None:
        found = self._many(*self._waiting_where(day, category_id), limit=1)
        return found[0] if found else None

    @staticmethod
    def _waiting_where(day: date, category_id: str | None) -> list[Any]:
        where = [t.tickets.c.business_date == day, t.tickets.c.state == TicketState.ISSUED.value]
        if category_id is not None:
            where.append(t.tickets.c.category_id == category_id)
        return where

    def tickets_at_counter(self, counter_id: str, day: date) -> list[Ticket]:
        return self._many(
            t.tickets.c.business_date == day,
            t.tickets.c.counter_id == counter_id,
            t.tickets.c.state.in_([s.value for s in AT_COUNTER_STATES]),
        )

    def occupied_counters(self, day: date) -> list[Ticket]:
        return self._many(
            t.tickets.c.business_date == day,
            t.tickets.c.state.in_([s.value for s in AT_COUNTER_STATES]),
            order=(t.tickets.c.called_at,),
        )

    def open_tickets_through(self, day: date) -> list[Ticket]:
        return self._many(
            t.tickets.c.business_date <= day,
            t.tickets.c.state.in_([s.value for s in OPEN_STATES]),
            order=(t.tickets.c.id,),
        )

    def waiting(self, day: date, category_id: str | None = None) -> list[Ticket]:
        return self._many(*self._waiting_where(day, category_id))

    def waiting_queue(self, day: date) -> list[WaitingTicket]:
        """Today's waiting tickets in call order per category (a few columns, for the state)."""
        c = t.tickets.c
        rows = self._c.execute(
            select(
                c.id,
                c.public_id,
                c.display_number,
                c.category_id,
                c.priority_rank,
                c.issued_at,
                c.recall_count,
                c.queued_at,
            )
            .where(c.office_id == self._office_id, *self._waiting_where(day, None))
            .order_by(*_QUEUE_ORDER)
        )
        return [WaitingTicket(*row) for row in rows]

    def rank(self, ticket: Ticket) -> int:
        c = t.tickets.c
        rank = ticket.priority.rank
        queued = ticket.queued_at or ticket.issued_at
        ahead = or_(
            c.priority_rank < rank,
            and_(c.priority_rank == rank, c.queued_at < queued),
            and_(c.priority_rank == rank, c.queued_at == queued, c.number < ticket.number),
        )
        count = self._c.execute(
            select(func.count()).where(
                c.office_id == self._office_id,
                *self._waiting_where(ticket.business_date, ticket.category_id),
                ahead,
            )
        ).scalar_one()
        return int(count)

    def recent_calls(self, day: date, limit: int) -> list[RecentCall]:
        tr = t.ticket_transitions.c
        rows = self._c.execute(
            select(t.tickets.c.display_number, tr.category_id, tr.counter_id, tr.at, tr.action)
            .join(t.tickets, t.tickets.c.id == tr.ticket_id)
            .where(
                tr.office_id == self._office_id,
                t.tickets.c.business_date == day,
                tr.action.in_(["call", "recall"]),
            )
            .order_by(tr.id.desc())
            .limit(limit)
        )
        return [RecentCall(r[0], r[1], r[2], r[3], r[4] == "recall") for r in rows]

    def set_print_outcome(
        self, ticket: Ticket, outcome: str, reason: str | None, at: datetime
    ) -> None:
        self._c.execute(
            update(t.tickets)
            .where(t.tickets.c.id == ticket.id)
            .values(print_outcome=outcome, print_reason=reason, printed_at=at)
        )
