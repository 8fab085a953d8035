"""Which relay requests this office has processed, and their answers (processed exactly once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from queue_server.adapters.tables import relay_requests


@dataclass(frozen=True)
class Stored:
    """A request seen before: its answer, or None when processing it never finished."""

    status: int | None
    answer: str | None


class SqlRelayRequests:
    def __init__(self, engine: Engine, office_id: str) -> None:
        self._engine = engine
        self._office_id = office_id

    def claim(self, request_id: str, path: str, now: datetime) -> Stored | None:
        """None when `request_id` is new (it is now recorded as in progress); else what is
        stored for it."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(relay_requests).values(
                        id=request_id, office_id=self._office_id, path=path, received_at=now
                    )
                )
            return None
        except IntegrityError:
            with self._engine.connect() as connection:
                row = connection.execute(
                    select(relay_requests.c.status, relay_requests.c.answer).where(
                        relay_requests.c.id == request_id
                    )
                ).one()
            return Stored(row.status, row.answer)

    def finish(self, request_id: str, status: int, answer: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(relay_requests)
                .where(relay_requests.c.id == request_id)
                .values(status=status, answer=answer)
            )

    def forget(self, before: datetime) -> int:
        """Delete what was received before `before` (the relay has long stopped asking)."""
        with self._engine.begin() as connection:
            gone = connection.execute(
                delete(relay_requests).where(relay_requests.c.received_at < before)
            )
        return gone.rowcount or 0
