"""What every use case shares: the office's writer and reads, the cached office, events, errors.

Each write runs as a job of the office's writer, in a transaction that holds the office lock; it
records one event with the office's next `seq`, published only after the commit. The first use
of a new business date closes the previous one (`service.day_close`) before anything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from queue_server.domain.errors import DomainError, NotFound
from queue_server.domain.office import Office
from queue_server.domain.ticket import Ticket
from queue_server.service import day_close
from queue_server.service.jsonable import jsonable
from queue_server.service.ports import (
    Clock,
    OfficeParser,
    OfficeRecord,
    OfficeStore,
    QueueStore,
    StoreFactory,
    TicketStore,
)
from queue_server.service.views import event_ticket

T = TypeVar("T")
U = TypeVar("U")
_DAY_CLOSED = object()  # a write job's answer when it closed the day first (it runs again)


class InvalidRequest(DomainError):
    code = "invalid_request"
    status = 422
    message_ja = "入力内容に誤りがあります。"


class UnsupportedLanguage(DomainError):
    code = "unsupported_language"
    status = 422
    message_ja = "対応していない言語です。"


class ServiceCore:
    """The office's writer and reads, with the office configuration cached per update."""

    def __init__(
        self, stores: StoreFactory, clock: Clock, parse_office: OfficeParser, public_base_url: str
    ) -> None:
        self._stores = stores
        self._clock = clock
        self._parse_office = parse_office
        self._public_base_url = public_base_url.rstrip("/")
        self._office_cache: tuple[datetime, Office] | None = None

    @property
    def zone(self) -> ZoneInfo:
        """The office's time zone (for showing times)."""
        cached = self._office_cache
        return cached[1].zone if cached is not None else ZoneInfo("Asia/Tokyo")

    def status_url(self, public_id: str) -> str:
        return f"{self._public_base_url}/t/{public_id}"

    def _office(self, store: OfficeStore, record: OfficeRecord) -> Office:
        cached = self._office_cache
        if cached is not None and cached[0] == record.updated_at:
            return cached[1]
        office = self._parse_office(store.office_config())
        self._office_cache = (record.updated_at, office)
        return office

    def _cached_office(self) -> Office:
        """The office as last read (a use case has read it before)."""
        office = self._office_cache[1] if self._office_cache else None
        assert office is not None
        return office

    # -- running use cases ------------------------------------------------------------------

    def _submit(self, work: Callable[[QueueStore, Office, datetime], T]) -> Future[T]:
        """Hand a use case to the office's writer; its result once committed."""
        result: Future[T] = Future()

        def job(store: QueueStore) -> Any:
            now = self._clock.now()  # read under the office lock: numbers and times agree
            record = store.office()
            office = self._office(store, record)
            target = day_close.close_due(office, record, now)
            if target is None:
                return work(store, office, now)
            # The day close commits on its own, so a use case that then fails cannot undo it.
            day_close.close_out(store, now, target)
            self._emit(store, office, now, "day.closed")
            return _DAY_CLOSED

        def settle(done: Future[Any]) -> None:
            try:
                value = done.result()
            except BaseException as exc:
                result.set_exception(exc)
                return
            if value is _DAY_CLOSED:
                try:
                    self._stores.submit(job).add_done_callback(settle)
                except Exception as exc:  # the writer closed meanwhile: the caller must not wait
                    result.set_exception(exc)
            else:
                result.set_result(value)

        self._stores.submit(job).add_done_callback(settle)
        return result

    def _write(self, work: Callable[[QueueStore, Office, datetime], T]) -> T:
        return self._submit(work).result()

    def _read(self, work: Callable[[QueueStore, Office, datetime], T]) -> T:
        now = self._clock.now()
        with self._stores.read() as store:
            record = store.office()
            office = self._office(store, record)
            if day_close.close_due(office, record, now) is None:
                return work(store, office, now)
        # The first use of a new business date closes the previous one before anything is read.
        return self._write(work)

    def close_day_if_due(self) -> bool:
        """Close out the business day when its close time has passed; True when it did."""
        now = self._clock.now()
        with self._stores.read() as store:
            record = store.office()
            due = day_close.close_due(self._office(store, record), record, now)
        if due is None:
            return False
        self._write(lambda store, office, now: None)
        return True

    # -- shared steps -----------------------------------------------------------------------

    def _emit(
        self,
        store: OfficeStore,
        office: Office,
        now: datetime,
        kind: str,
        *,
        ticket: Ticket | None = None,
        counter_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record one event with the office's next seq: what changed, no personal data.

        Figures derived from the whole queue (counts, estimates) are not computed here, under
        the office lock, but in the `QueueState` after the commit, at most a few times a second.
        """
        seq = store.next_seq()
        payload: dict[str, Any] = {
            "seq": seq,
            "type": kind,
            "at": now,
            "ticket": event_ticket(ticket, office) if ticket is not None else None,
            "counter_id": counter_id,
        }
        if detail:
            payload["detail"] = dict(detail)
        store.append_event(seq, kind, now, jsonable(payload, office.zone))

    @staticmethod
    def _ticket(store: TicketStore, ticket_id: int) -> Ticket:
        ticket = store.ticket(ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        return ticket


def then(future: Future[T], step: Callable[[T], U]) -> Future[U]:
    """A future of `step(result)`, computed where `future` completes."""
    out: Future[U] = Future()

    def chain(done: Future[T]) -> None:
        try:
            out.set_result(step(done.result()))
        except BaseException as exc:
            out.set_exception(exc)

    future.add_done_callback(chain)
    return out
