"""`QueueStore` on SQLAlchemy Core, for SQLite and PostgreSQL, and the office's writer.

Every write transaction first takes the office's lock: `BEGIN IMMEDIATE` on SQLite (behind a
file lock shared by every process on the database file, so waiting writers block instead of
sleeping in the busy handler), a `SELECT ... FOR UPDATE` of the office row on PostgreSQL.
Numbers, seqs and calls are therefore decided one transaction at a time, so they are unique and
gap-free under any concurrency.

Writes go through one writer thread per process that owns one connection and commits in
groups: it takes every job waiting, runs each in its own savepoint (a job that fails rolls back
alone) and commits them together. One commit then pays for many tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Row

from queue_server.adapters import tables as t
from queue_server.adapters.database import is_sqlite
from queue_server.adapters.event_bus import Notice
from queue_server.domain.errors import NotFound
from queue_server.domain.learning import Arrival, ServiceSample
from queue_server.domain.ticket import AT_COUNTER_STATES, OPEN_STATES, Priority, Ticket, TicketState
from queue_server.service.ports import OfficeRecord, RecentCall, WaitingTicket

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


def new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _select_tickets() -> Any:
    return select(t.tickets.c.id, *(t.tickets.c[name] for name in _TICKET_FIELDS))


_QUEUE_ORDER = (t.tickets.c.priority_rank, t.tickets.c.queued_at, t.tickets.c.number)


@dataclass(frozen=True)
class StoreMark:
    """What a store holds in memory at a savepoint, to be restored if the savepoint rolls back."""

    record: OfficeRecord | None
    notices: int
    seq_written: int | None


class SqlQueueStore:
    """One transaction on one office."""

    def __init__(self, connection: Connection, office_id: str, locked: bool) -> None:
        self._c = connection
        self._office_id = office_id
        self._locked = locked
        self._record: OfficeRecord | None = None
        self._seq_written: int | None = None  # the seq stored in the office row, once read
        self.notices: list[Notice] = []

    def mark(self) -> StoreMark:
        return StoreMark(self._record, len(self.notices), self._seq_written)

    def reset(self, mark: StoreMark) -> None:
        """Forget what was done after `mark` (its savepoint was rolled back)."""
        self._record = mark.record
        del self.notices[mark.notices :]
        self._seq_written = mark.seq_written

    def flush(self) -> None:
        """Store the office's seq once for all the events of this transaction."""
        record = self._record
        if record is not None and self._seq_written is not None and record.seq != self._seq_written:
            self._c.execute(
                update(t.offices).where(t.offices.c.id == self._office_id).values(seq=record.seq)
            )
            self._seq_written = record.seq

    # office and events
    def office(self) -> OfficeRecord:
        if self._record is None:
            o = t.offices.c
            # The configuration itself is fetched only when it changed (see office_config).
            query = select(o.id, o.seq, o.closed_through, o.updated_at).where(
                o.id == self._office_id
            )
            if self._locked and not is_sqlite(self._c.engine):
                query = query.with_for_update()
            row = self._c.execute(query).first()
            if row is None:
                raise NotFound(f"office {self._office_id!r} is not loaded")
            m = row._mapping
            self._record = OfficeRecord(m["id"], m["seq"], m["closed_through"], m["updated_at"])
            self._seq_written = m["seq"]
        return self._record

    def office_config(self) -> dict[str, Any]:
        config = self._c.execute(
            select(t.offices.c.config).where(t.offices.c.id == self._office_id)
        ).scalar_one()
        return dict(config)

    def next_seq(self) -> int:
        # Written to the office row by `flush`, once per transaction, under the office lock.
        record = self.office()
        seq = record.seq + 1
        self._record = OfficeRecord(record.id, seq, record.closed_through, record.updated_at)
        return seq

    def last_event_at(self) -> datetime | None:
        e = t.office_events.c
        return self._c.execute(
            select(e.at).where(e.office_id == self._office_id, e.seq == self.office().seq)
        ).scalar_one_or_none()

    def append_event(self, seq: int, kind: str, at: datetime, payload: Mapping[str, Any]) -> None:
        self._c.execute(
            insert(t.office_events).values(
                office_id=self._office_id, seq=seq, type=kind, at=at, payload=dict(payload)
            )
        )
        self.notices.append(Notice(self._office_id, seq, dict(payload)))

    def set_closed_through(self, day: date) -> None:
        self._c.execute(
            update(t.offices).where(t.offices.c.id == self._office_id).values(closed_through=day)
        )

    # numbering
    def take_number(self, category_id: str, day: date, first: int) -> int:
        """The next number of (category, day), starting at `first`; one round trip when the
        day's row exists. The caller checks caps and ranges: its savepoint undoes a refusal."""
        s = t.number_sequences.c
        number = self._c.execute(
            update(t.number_sequences)
            .where(
                s.office_id == self._office_id, s.category_id == category_id, s.business_date == day
            )
            .values(last_number=s.last_number + 1)
            .returning(s.last_number)
        ).scalar_one_or_none()
        if number is not None:
            return int(number)
        self._c.execute(
            insert(t.number_sequences).values(
                office_id=self._office_id,
                category_id=category_id,
                business_date=day,
                last_number=first,
            )
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

    # tickets
    def add_ticket(self, ticket: Ticket, device: str | None) -> None:
        result = self._c.execute(
            insert(t.tickets).values(
                {
                    **_columns(ticket),
                    "origin_category_id": ticket.category_id,
                    "priority_rank": ticket.priority.rank,
                    "queued_at": ticket.queued_at or ticket.issued_at,
                    "device": device,
                }
            )
        )
        ticket.id = new_id(result)
        self._write_transitions(ticket, device)

    def waiting_ahead(self, category_id: str, day: date, rank: int) -> int:
        """Tickets waiting in `category_id` that a new ticket of priority `rank` queues behind."""
        w = t.waiting_counts.c
        total = self._c.execute(
            select(func.coalesce(func.sum(w.waiting), 0)).where(
                w.office_id == self._office_id,
                w.business_date == day,
                w.category_id == category_id,
                w.priority_rank <= rank,
            )
        ).scalar_one()
        return int(total)

    def _count_waiting(self, ticket: Ticket, category_id: str, delta: int) -> None:
        w = t.waiting_counts.c
        where = (
            w.office_id == self._office_id,
            w.business_date == ticket.business_date,
            w.category_id == category_id,
            w.priority_rank == ticket.priority.rank,
        )
        updated = self._c.execute(
            update(t.waiting_counts).where(*where).values(waiting=w.waiting + delta)
        )
        if updated.rowcount == 0:
            self._c.execute(
                insert(t.waiting_counts).values(
                    office_id=self._office_id,
                    business_date=ticket.business_date,
                    category_id=category_id,
                    priority_rank=ticket.priority.rank,
                    waiting=delta,
                )
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
        self._c.execute(
            insert(t.ticket_transitions),
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
            ],
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

    # pre-applications and the audit log
    def add_preapplication(self, record: Mapping[str, Any]) -> None:
        self._c.execute(insert(t.preapplications).values(office_id=self._office_id, **record))

    def take_preapplication(self, reference: str) -> dict[str, Any] | None:
        p = t.preapplications.c
        where = (p.reference == reference, p.office_id == self._office_id)
        row = self._c.execute(select(t.preapplications).where(*where)).first()
        if row is None:
            return None
        self._c.execute(delete(t.preapplications).where(*where))
        return dict(row._mapping)

    def delete_expired_preapplications(self, now: datetime) -> int:
        p = t.preapplications.c
        result = self._c.execute(delete(t.preapplications).where(p.expires_at <= now))
        return int(result.rowcount)

    def audit(self, actor: str, action: str, ticket_id: int | None, at: datetime) -> None:
        self._c.execute(
            insert(t.audit_log).values(actor=actor, action=action, ticket_id=ticket_id, at=at)
        )

    # scanned codes
    def code_redeemed(self, fingerprint: str) -> bool:
        found = self._c.execute(
            select(t.redeemed_codes.c.fingerprint).where(
                t.redeemed_codes.c.fingerprint == fingerprint
            )
        ).first()
        return found is not None

    def redeem_code(self, fingerprint: str, ticket: Ticket, at: datetime) -> None:
        self._c.execute(
            insert(t.redeemed_codes).values(fingerprint=fingerprint, ticket_id=ticket.id, at=at)
        )

    # devices
    def device_health(self, name: str) -> dict[str, Any] | None:
        health = self._c.execute(
            select(t.devices.c.health).where(t.devices.c.name == name)
        ).scalar_one_or_none()
        return None if health is None else dict(health)

    def set_device_health(self, name: str, health: Mapping[str, Any], at: datetime) -> None:
        self._c.execute(
            update(t.devices)
            .where(t.devices.c.name == name)
            .values(health=dict(health), health_at=at, last_seen_at=at)
        )

    def devices(self) -> list[dict[str, Any]]:
        d = t.devices.c
        rows = self._c.execute(
            select(d.name, d.kind, d.last_seen_at, d.health, d.health_at).order_by(d.name)
        )
        return [dict(r._mapping) for r in rows]

    # counters
    def counter_states(self) -> dict[str, str]:
        c = t.counter_states.c
        rows = self._c.execute(select(c.counter_id, c.state).where(c.office_id == self._office_id))
        return {r.counter_id: r.state for r in rows}

    def set_counter_state(self, counter_id: str, state: str, at: datetime) -> None:
        c = t.counter_states.c
        updated = self._c.execute(
            update(t.counter_states)
            .where(c.office_id == self._office_id, c.counter_id == counter_id)
            .values(state=state, updated_at=at)
        )
        if updated.rowcount == 0:
            self._c.execute(
                insert(t.counter_states).values(
                    office_id=self._office_id, counter_id=counter_id, state=state, updated_at=at
                )
            )

    # facts the wait estimator learns from
    def service_samples(self, since: datetime, until: datetime) -> list[ServiceSample]:
        tr = t.ticket_transitions.c
        rows = self._c.execute(
            select(tr.category_id, tr.from_category_id, tr.service_minutes, tr.at, tr.counter_id)
            .where(
                tr.office_id == self._office_id,
                tr.at >= since,
                tr.at < until,
                tr.service_minutes.is_not(None),
            )
            .order_by(tr.at)
        )
        return [
            ServiceSample(
                r.from_category_id or r.category_id, float(r.service_minutes), r.at, r.counter_id
            )
            for r in rows
        ]

    def arrivals(self, since: datetime, until: datetime) -> list[Arrival]:
        c = t.tickets.c
        rows = self._c.execute(
            select(c.origin_category_id, c.priority_rank, c.issued_at).where(
                c.office_id == self._office_id, c.issued_at >= since, c.issued_at < until
            )
        )
        return [Arrival(r[0], int(r[1]), r[2]) for r in rows]

    def call_outcomes(
        self, since: datetime, until: datetime
    ) -> tuple[dict[str, int], dict[str, int], float]:
        """Per category: calls resolved (finished, transferred, no-show), no-shows among them."""
        tr = t.ticket_transitions.c
        category = func.coalesce(tr.from_category_id, tr.category_id)
        rows = self._c.execute(
            select(category, tr.action, func.count())
            .where(
                tr.office_id == self._office_id,
                tr.at >= since,
                tr.at < until,
                tr.action.in_(["finish", "transfer", "no-show"]),
            )
            .group_by(category, tr.action)
        )
        calls: dict[str, int] = {}
        missed: dict[str, int] = {}
        for cat, action, count in rows:
            calls[cat] = calls.get(cat, 0) + int(count)
            if action == "no-show":
                missed[cat] = missed.get(cat, 0) + int(count)
        # The counter time a no-show costs is not stored per row: assume the usual recall wait.
        return calls, missed, 1.5 * sum(missed.values())

    def counter_state_times(self) -> dict[str, datetime]:
        c = t.counter_states.c
        rows = self._c.execute(
            select(c.counter_id, c.updated_at).where(c.office_id == self._office_id)
        )
        return {r.counter_id: r.updated_at for r in rows}

    # personal data for the clerk
    def attach(self, ticket: Ticket, kind: str, data: Mapping[str, Any], at: datetime) -> None:
        self._c.execute(
            insert(t.ticket_attachments).values(
                ticket_id=ticket.id,
                business_date=ticket.business_date,
                kind=kind,
                data=dict(data),
                created_at=at,
            )
        )

    def attachments(self, ticket: Ticket) -> list[dict[str, Any]]:
        a = t.ticket_attachments.c
        rows = self._c.execute(
            select(a.kind, a.data, a.created_at).where(a.ticket_id == ticket.id).order_by(a.id)
        )
        return [{"kind": r.kind, "data": r.data, "created_at": r.created_at} for r in rows]

    def delete_attachments_through(self, day: date) -> int:
        a = t.ticket_attachments.c
        ids = select(t.tickets.c.id).where(t.tickets.c.office_id == self._office_id)
        result = self._c.execute(
            delete(t.ticket_attachments).where(a.business_date <= day, a.ticket_id.in_(ids))
        )
        return int(result.rowcount)
