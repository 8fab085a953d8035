"""`QueueStore` on SQLAlchemy Core, for SQLite and PostgreSQL.

The ports are implemented one group per module (`sql_tickets`, `sql_records`, `sql_facts`);
`SqlQueueStore` joins them on one connection and keeps the office's row and events.

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

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from queue_server.adapters import tables as t
from queue_server.adapters.database import is_sqlite
from queue_server.adapters.event_bus import Notice
from queue_server.adapters.sql_facts import SqlLearningFacts
from queue_server.adapters.sql_records import (
    SqlAttachmentStore,
    SqlCodeStore,
    SqlCounterStore,
    SqlDeviceStore,
)
from queue_server.adapters.sql_reservations import SqlNoticeStore, SqlReservationStore
from queue_server.adapters.sql_tickets import SqlNumberStore, SqlTicketStore
from queue_server.domain.errors import NotFound
from queue_server.service.ports import OfficeRecord

# Statements run on every write, built once.
_o = t.offices.c
_OFFICE = select(_o.id, _o.seq, _o.closed_through, _o.updated_at).where(
    _o.id == bindparam("b_office")
)
_OFFICE_LOCKED = _OFFICE.with_for_update()
_SET_SEQ = update(t.offices).where(_o.id == bindparam("b_office")).values(seq=bindparam("b_seq"))
_INSERT_EVENT = insert(t.office_events)
_INSERT_TRANSITION = insert(t.ticket_transitions)


@dataclass(frozen=True)
class StoreMark:
    """What a store holds in memory at a savepoint, to be restored if the savepoint rolls back."""

    record: OfficeRecord | None
    notices: int
    seq_written: int | None
    transitions: int
    events: int


class SqlQueueStore(
    SqlNumberStore,
    SqlTicketStore,
    SqlCounterStore,
    SqlCodeStore,
    SqlDeviceStore,
    SqlAttachmentStore,
    SqlReservationStore,
    SqlNoticeStore,
    SqlLearningFacts,
):
    """One transaction on one office: every store port (`QueueStore`); the office's row and
    events are kept here.

    Rows nothing reads back in the same transaction (events, ticket transitions) and the
    office's seq are written by `flush`, once per transaction with one statement each: under
    load one group commit writes them for many tickets at once."""

    def __init__(self, connection: Connection, office_id: str, locked: bool) -> None:
        self._c = connection
        self._office_id = office_id
        self._locked = locked
        self._record: OfficeRecord | None = None
        self._seq_written: int | None = None  # the seq stored in the office row, once read
        self.notices: list[Notice] = []
        self._pending_transitions: list[dict[str, Any]] = []
        self._pending_events: list[dict[str, Any]] = []

    def mark(self) -> StoreMark:
        return StoreMark(
            self._record,
            len(self.notices),
            self._seq_written,
            len(self._pending_transitions),
            len(self._pending_events),
        )

    def reset(self, mark: StoreMark) -> None:
        """Forget what was done after `mark` (its savepoint was rolled back)."""
        self._record = mark.record
        del self.notices[mark.notices :]
        self._seq_written = mark.seq_written
        del self._pending_transitions[mark.transitions :]
        del self._pending_events[mark.events :]

    def flush(self) -> None:
        """Write the transaction's transitions and events, and the office's seq once."""
        if self._pending_transitions:
            self._c.execute(_INSERT_TRANSITION, self._pending_transitions)
            self._pending_transitions = []
        if self._pending_events:
            self._c.execute(_INSERT_EVENT, self._pending_events)
            self._pending_events = []
        record = self._record
        if record is not None and self._seq_written is not None and record.seq != self._seq_written:
            self._c.execute(_SET_SEQ, {"b_office": self._office_id, "b_seq": record.seq})
            self._seq_written = record.seq

    # office and events
    def office(self) -> OfficeRecord:
        if self._record is None:
            # The configuration itself is fetched only when it changed (see office_config).
            query = _OFFICE_LOCKED if self._locked and not is_sqlite(self._c.engine) else _OFFICE
            row = self._c.execute(query, {"b_office": self._office_id}).first()
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
        self._pending_events.append(
            {"office_id": self._office_id, "seq": seq, "type": kind, "at": at, "payload": payload}
        )
        self.notices.append(Notice(self._office_id, seq, dict(payload)))

    def prune_events(
        self, before: datetime, kept_types: tuple[str, ...], kept_since: datetime
    ) -> int:
        e = t.office_events.c
        result = self._c.execute(
            delete(t.office_events).where(
                e.office_id == self._office_id,
                e.at < before,
                or_(e.type.not_in(kept_types), e.at < kept_since),
            )
        )
        return int(result.rowcount)

    def set_closed_through(self, day: date) -> None:
        self._c.execute(
            update(t.offices).where(t.offices.c.id == self._office_id).values(closed_through=day)
        )
