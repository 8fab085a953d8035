"""The queue's use cases. Each write runs as a job of the office's writer, in a transaction that
holds the office lock; it records one event with the office's next `seq`, published only after
the commit. Reads of figures (waits, people ahead) come from the computed `QueueState`."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from queue_server.domain.codes import (
    CodeExpired,
    CodeUnknown,
    CodeUsed,
    VisitCode,
    fingerprint,
    make_code,
    read_code,
)
from queue_server.domain.dispatch import choose_next
from queue_server.domain.errors import (
    CategoryNotServed,
    CounterBusy,
    DailyCapReached,
    DomainError,
    IllegalTransition,
    NotFound,
    NumberRangeExhausted,
    OfficeClosed,
)
from queue_server.domain.estimate import WaitEstimator
from queue_server.domain.forecast import monte_carlo_estimate
from queue_server.domain.forms import fee_total
from queue_server.domain.forms import form as form_spec
from queue_server.domain.forms import schema as form_schema
from queue_server.domain.forms import validate as validate_form
from queue_server.domain.office import LANGUAGES, Category, Office
from queue_server.domain.ticket import (
    AT_COUNTER_STATES,
    Action,
    Priority,
    Ticket,
    TicketState,
)
from queue_server.service.jsonable import jsonable
from queue_server.service.ports import (
    Clock,
    OfficeParser,
    OfficeRecord,
    QueueStore,
    RequestRenderer,
    SlipPrinter,
    StoreFactory,
)
from queue_server.service.state import (
    AT_COUNTER,
    NO_FIGURE,
    Figure,
    QueueState,
    StateProjector,
    public_ticket,
)

T = TypeVar("T")
U = TypeVar("U")
COUNTER_STATES = ("open", "paused", "closed")
_DAY_CLOSED = object()  # a write job's answer when it closed the day first (it runs again)


PRINT_OUTCOMES = ("printed", "failed")


class InvalidRequest(DomainError):
    code = "invalid_request"
    status = 422
    message_ja = "入力内容に誤りがあります。"


class UnsupportedLanguage(DomainError):
    code = "unsupported_language"
    status = 422
    message_ja = "対応していない言語です。"


@dataclass(frozen=True)
class TicketView:
    """A ticket as staff and the issuing kiosk see it (no personal data)."""

    id: int
    public_id: str
    number: str
    category_id: str
    priority: str
    language: str
    state: str
    business_date: date
    issued_at: datetime
    called_at: datetime | None
    counter_id: str | None
    counter_number: int | None
    recall_count: int
    ahead: int
    estimated_wait_minutes: int | None
    estimate_low_minutes: int | None
    estimate_high_minutes: int | None
    status_url: str
    print_outcome: str | None = None
    print_reason: str | None = None
    seq: int = 0  # the state the figures come from


_EVENT_KINDS = {
    Action.NO_SHOW: "ticket.no_show",
    Action.RETURN: "ticket.returned",
    Action.TRANSFER: "ticket.transferred",
    Action.HOLD: "ticket.held",
    Action.RESUME: "ticket.resumed",
    Action.CANCEL: "ticket.cancelled",
    Action.RECALL: "ticket.recalled",
    Action.START: "ticket.started",
    Action.FINISH: "ticket.finished",
}


class QueueService:
    """Issue, call and move tickets; compute the public status."""

    def __init__(
        self,
        stores: StoreFactory,
        clock: Clock,
        parse_office: OfficeParser,
        public_base_url: str,
        estimator: WaitEstimator = monte_carlo_estimate,
        slip_printer: SlipPrinter | None = None,
        code_secret: bytes | None = None,
        renderer: RequestRenderer | None = None,
        preapplication_days: int = 7,
        lamp_minutes: Sequence[int] = (20, 45),
        tick_seconds: float = 30.0,
    ) -> None:
        self._renderer = renderer
        self._preapplication_days = preapplication_days
        self._code_secret = code_secret
        self._slip_printer = slip_printer
        self._stores = stores
        self._clock = clock
        self._parse_office = parse_office
        self._public_base_url = public_base_url.rstrip("/")
        self._projector = StateProjector(estimator, lamp_minutes, tick_seconds)
        self._office_cache: tuple[datetime, Office] | None = None
        self._state: QueueState | None = None
        self._state_lock = threading.Lock()

    @property
    def zone(self) -> ZoneInfo:
        """The office's time zone (for showing times)."""
        cached = self._office_cache
        return cached[1].zone if cached is not None else ZoneInfo("Asia/Tokyo")

    # -- helpers -------------------------------------------------------------------------

    def _office(self, store: QueueStore, record: OfficeRecord) -> Office:
        cached = self._office_cache
        if cached is not None and cached[0] == record.updated_at:
            return cached[1]
        office = self._parse_office(store.office_config())
        self._office_cache = (record.updated_at, office)
        return office

    def status_url(self, public_id: str) -> str:
        return f"{self._public_base_url}/t/{public_id}"

    def _submit(self, work: Callable[[QueueStore, Office, datetime], T]) -> Future[T]:
        """Hand a use case to the office's writer; its result once committed."""
        result: Future[T] = Future()

        def job(store: QueueStore) -> Any:
            now = self._clock.now()  # read under the office lock: numbers and times agree
            record = store.office()
            office = self._office(store, record)
            if self._close_due(office, record, now) is None:
                return work(store, office, now)
            # The day close commits on its own, so a use case that then fails cannot undo it.
            self._close_day_if_due(store, office, record, now)
            return _DAY_CLOSED

        def settle(done: Future[Any]) -> None:
            try:
                value = done.result()
            except BaseException as exc:
                result.set_exception(exc)
                return
            if value is _DAY_CLOSED:
                self._stores.submit(job).add_done_callback(settle)
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
            if self._close_due(office, record, now) is None:
                return work(store, office, now)
        # The first use of a new business date closes the previous one before anything is read.
        return self._write(work)

    def _emit(
        self,
        store: QueueStore,
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
            "ticket": _event_ticket(ticket, office) if ticket is not None else None,
            "counter_id": counter_id,
        }
        if detail:
            payload["detail"] = dict(detail)
        store.append_event(seq, kind, now, jsonable(payload, office.zone))

    def _view_after(self, ticket: Ticket) -> TicketView:
        """The ticket as it stands after a write committed, read without holding the lock."""
        assert ticket.id is not None
        return self.ticket(ticket.id)

    def _view(
        self,
        office: Office,
        ticket: Ticket,
        state: QueueState,
        store: QueueStore | None = None,
        ahead: int | None = None,
    ) -> TicketView:
        """Staff's and the issuing kiosk's view; figures from `state`. A waiting ticket's people
        ahead are `ahead` when known exactly, else its place in the state, else counted."""
        assert ticket.id is not None
        figure: Figure = NO_FIGURE
        if ticket.state is TicketState.ISSUED:
            if ahead is None:
                place = state.places.get(ticket.id)
                if place is not None and place[0] == ticket.category_id:
                    ahead = place[1]
                elif store is not None:
                    ahead = store.rank(ticket)
            figure = state.figure(ticket.category_id, ahead or 0)
        elif ticket.state in AT_COUNTER_STATES:
            figure = AT_COUNTER
        minutes, low, high = figure
        counter_number = office.counter(ticket.counter_id).number if ticket.counter_id else None
        return TicketView(
            id=ticket.id,
            public_id=ticket.public_id,
            number=ticket.display_number,
            category_id=ticket.category_id,
            priority=ticket.priority.value,
            language=ticket.language,
            state=ticket.state.value,
            business_date=ticket.business_date,
            issued_at=ticket.issued_at,
            called_at=ticket.called_at,
            counter_id=ticket.counter_id,
            counter_number=counter_number,
            recall_count=ticket.recall_count,
            ahead=ahead or 0,
            estimated_wait_minutes=minutes,
            estimate_low_minutes=low,
            estimate_high_minutes=high,
            status_url=self.status_url(ticket.public_id),
            print_outcome=ticket.print_outcome,
            print_reason=ticket.print_reason,
            seq=state.seq,
        )

    # -- day close ------------------------------------------------------------------------

    @staticmethod
    def _close_due(office: Office, record: OfficeRecord, now: datetime) -> date | None:
        local = office.local(now)
        today = local.date()
        closed_today = office.day_close is not None and local.time() >= office.day_close
        target = today if closed_today else today - timedelta(days=1)
        if record.closed_through is None or record.closed_through < target:
            return target
        return None

    def _close_day_if_due(
        self, store: QueueStore, office: Office, record: OfficeRecord, now: datetime
    ) -> None:
        target = self._close_due(office, record, now)
        if target is None:
            return
        for ticket in store.open_tickets_through(target):
            ticket.close_out(now)
            store.save_ticket(ticket, "day-close")
        store.delete_attachments_through(target)
        store.delete_expired_preapplications(now)
        store.set_closed_through(target)
        self._emit(store, office, now, "day.closed")

    def close_day_if_due(self) -> bool:
        """Close out the business day when its close time has passed; True when it did."""
        now = self._clock.now()
        with self._stores.read() as store:
            record = store.office()
            due = self._close_due(self._office(store, record), record, now)
        if due is None:
            return False
        self._write(lambda store, office, now: None)
        return True

    # -- use cases --------------------------------------------------------------------------

    def verify_code(self, text: str) -> VisitCode:
        """Check a scanned code (signature, expiry, known category, not used yet)."""

        def work(store: QueueStore, office: Office, now: datetime) -> VisitCode:
            return self._valid_code(store, office, now, text)

        return self._read(work)

    def _valid_code(self, store: QueueStore, office: Office, now: datetime, text: str) -> VisitCode:
        if self._code_secret is None:
            raise CodeUnknown("this server does not accept codes")
        code = read_code(self._code_secret, text, now)
        try:
            office.category(code.category_id)
        except NotFound:
            raise CodeUnknown(
                f"the code is for an unknown procedure {code.category_id!r}"
            ) from None
        if store.code_redeemed(fingerprint(text)):
            raise CodeUsed("this code was already used to take a ticket")
        return code

    def issue_ticket(
        self,
        category_id: str | None,
        language: str = "ja",
        priority: Priority = Priority.NORMAL,
        device: str | None = None,
        code: str | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> TicketView:
        """Give a visitor the next number for today: of `category_id`, or of the procedure a
        scanned reservation or pre-application `code` is for (used once)."""
        return self.issue_ticket_later(
            category_id, language, priority, device, code=code, request=request
        ).result()

    def issue_ticket_later(
        self,
        category_id: str | None,
        language: str = "ja",
        priority: Priority = Priority.NORMAL,
        device: str | None = None,
        code: str | None = None,
        request: Mapping[str, Any] | None = None,
    ) -> Future[TicketView]:
        """`issue_ticket` without waiting: the answer once the ticket is committed.

        The people ahead are counted in the write (exact); the estimate for that place comes
        from the current `QueueState`, so issuing never runs the estimator."""
        if language not in LANGUAGES:
            raise UnsupportedLanguage(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        if category_id is None and code is None:
            raise InvalidRequest("give a category_id or a scanned code")

        def work(store: QueueStore, office: Office, now: datetime) -> tuple[Office, Ticket, int]:
            visit = self._valid_code(store, office, now, code) if code is not None else None
            if visit is not None and category_id not in (None, visit.category_id):
                raise InvalidRequest("the code is for another procedure")
            category = office.category(visit.category_id if visit else str(category_id))
            prefilled = self._request_for(store, category, visit, request)
            reason = office.reception_closed_reason(category, now)
            if reason is not None:
                raise OfficeClosed(f"{category.names['ja']} is not taking tickets now ({reason})")
            day = office.business_date(now)
            number = self._next_number(store, category, day)
            chosen = Priority(visit.priority) if visit else priority
            ahead = store.waiting_ahead(category.id, day, chosen.rank)
            ticket = Ticket.issue(
                office_id=office.id,
                business_date=day,
                category_id=category.id,
                number=number,
                display_number=category.display_number(number),
                public_id=secrets.token_urlsafe(16),
                priority=chosen,
                language=language,
                at=now,
            )
            store.add_ticket(ticket, device)
            if code is not None:
                store.redeem_code(fingerprint(code), ticket, now)
            if prefilled is not None:
                store.attach(ticket, "request", prefilled, now)
            self._emit(store, office, now, "ticket.issued", ticket=ticket)
            return office, ticket, ahead

        def answer(written: tuple[Office, Ticket, int]) -> TicketView:
            office, ticket, ahead = written
            return self._view(office, ticket, self.state(), ahead=ahead)

        return _then(self._submit(work), answer)

    @staticmethod
    def _request_for(
        store: QueueStore,
        category: Category,
        visit: VisitCode | None,
        request: Mapping[str, Any] | None,
    ) -> dict[str, Any] | None:
        """The request to attach: a pre-application's (used up now) or one filled at the kiosk."""
        if visit is not None and visit.kind == "preapplication":
            stored = store.take_preapplication(visit.reference)
            if stored is None:
                raise CodeExpired("the pre-application was already used or has expired")
            return {"form": stored["form"], "fields": stored["data"], "source": "preapplication"}
        if request is None:
            return None
        form_id = str(request.get("form", ""))
        if form_id not in category.forms:
            raise InvalidRequest(f"{category.id!r} does not use form {form_id!r}")
        fields = request.get("fields")
        if not isinstance(fields, Mapping):
            raise InvalidRequest("request.fields must be an object")
        return {"form": form_id, "fields": validate_form(form_id, fields), "source": "kiosk"}

    def preapply(
        self, category_id: str, form_id: str, fields: Mapping[str, Any], language: str = "ja"
    ) -> dict[str, Any]:
        """Keep a request filled at home; the resident gets a code to scan at the kiosk."""
        if self._code_secret is None:
            raise InvalidRequest("this server does not accept pre-applications")
        if language not in LANGUAGES:
            raise UnsupportedLanguage(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
        secret = self._code_secret

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            category = office.category(category_id)
            if form_id not in category.forms:
                raise InvalidRequest(f"{category.id!r} does not use form {form_id!r}")
            cleaned = validate_form(form_id, fields)
            reference = secrets.token_urlsafe(12)
            expires = now + timedelta(days=self._preapplication_days)
            store.add_preapplication(
                {
                    "reference": reference,
                    "category_id": category.id,
                    "form": form_id,
                    "data": cleaned,
                    "language": language,
                    "created_at": now,
                    "expires_at": expires,
                }
            )
            code = make_code(secret, VisitCode("preapplication", category.id, reference, expires))
            fee = fee_total(form_id, cleaned, category.fee)
            return {
                "code": code,
                "expires_at": expires,
                "fee_total": fee,
                "category_id": category.id,
            }

        return self._write(work)

    def ticket_request(self, ticket_id: int, actor: str) -> dict[str, Any]:
        """The prefilled request of a ticket, for the clerk (audit-logged, content not logged)."""

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            ticket = self._ticket(store, ticket_id)
            requests = [a for a in store.attachments(ticket) if a["kind"] == "request"]
            if not requests:
                raise NotFound(f"ticket {ticket.display_number} has no prefilled request")
            store.audit(actor, "request.viewed", ticket.id, now)
            request = requests[-1]["data"]
            category = office.category(ticket.category_id)
            spec = form_spec(request["form"])
            return {
                "ticket_id": ticket.id,
                "number": ticket.display_number,
                "form": form_schema(spec),
                "fields": request["fields"],
                "source": request.get("source"),
                "fee_per_copy": category.fee,
                "fee_total": fee_total(spec.id, request["fields"], category.fee),
            }

        return self._write(work)

    def request_pdf(self, ticket_id: int, actor: str) -> tuple[str, bytes]:
        """The completed request as an A4 PDF for the visitor's signature (audit-logged)."""
        if self._renderer is None:
            raise InvalidRequest("this server has no PDF renderer")
        request = self.ticket_request(ticket_id, actor)
        office = self._office_cache[1] if self._office_cache else None
        assert office is not None
        pdf = self._renderer.render(office, request, request["number"])
        self._write(
            lambda store, office, now: store.audit(actor, "request.printed", ticket_id, now)
        )
        return request["number"], pdf

    @staticmethod
    def _next_number(store: QueueStore, category: Category, day: date) -> int:
        # Taken first and checked after: a refusal rolls the job's savepoint back, number too.
        number = store.take_number(category.id, day, category.number_start)
        issued = number - category.number_start + 1
        if category.daily_cap is not None and issued > category.daily_cap:
            raise DailyCapReached(
                f"{category.names['ja']}: today's {category.daily_cap} tickets are all issued"
            )
        if number > category.number_end:
            last_display = category.display_number(category.number_end)
            raise NumberRangeExhausted(
                f"{category.names['ja']}: numbers up to {last_display} are used up today"
            )
        return number

    def _counter_free(self, store: QueueStore, office: Office, counter_id: str, day: date) -> None:
        busy = store.tickets_at_counter(counter_id, day)
        if busy:
            numbers = ", ".join(t.display_number for t in busy)
            raise CounterBusy(
                f"counter {office.counter(counter_id).number} still has {numbers}:"
                " finish, transfer or mark it no-show first"
            )

    def _call(
        self,
        store: QueueStore,
        office: Office,
        now: datetime,
        ticket: Ticket,
        counter_id: str,
        actor: str | None,
    ) -> Ticket:
        if store.counter_states().get(counter_id) != "open":
            store.set_counter_state(counter_id, "open", now)
        ticket.call(counter_id, now)
        store.save_ticket(ticket, actor)
        self._emit(store, office, now, "ticket.called", ticket=ticket, counter_id=counter_id)
        return ticket

    def call_next(
        self, counter_id: str, actor: str | None = None, finish_current: bool = False
    ) -> TicketView | None:
        """Call the next ticket for `counter_id`, or None when nobody it serves is waiting.

        With `finish_current`, the ticket at the counter is finished first, in the same
        transaction (the clerk's one "next, please" button).
        """

        def work(store: QueueStore, office: Office, now: datetime) -> Ticket | None:
            counter = office.counter(counter_id)
            day = office.business_date(now)
            if finish_current:
                for current in store.tickets_at_counter(counter.id, day):
                    self._apply(store, office, now, current, Action.FINISH, actor, None)
            self._counter_free(store, office, counter.id, day)
            ticket = choose_next(counter, lambda c: store.head_of_queue(c, day))
            if ticket is None:
                return None
            return self._call(store, office, now, ticket, counter.id, actor)

        called = self._write(work)
        return None if called is None else self._view_after(called)

    def call_ticket(self, ticket_id: int, counter_id: str, actor: str | None = None) -> TicketView:
        """Call one specific waiting ticket out of order."""

        def work(store: QueueStore, office: Office, now: datetime) -> Ticket:
            counter = office.counter(counter_id)
            ticket = self._ticket(store, ticket_id)
            if ticket.category_id not in counter.categories:
                raise CategoryNotServed(
                    f"counter {counter.number} does not serve {ticket.category_id!r}"
                )
            if ticket.state is not TicketState.ISSUED:
                ticket.call(counter.id, now)  # raises the precise IllegalTransition
            self._counter_free(store, office, counter.id, office.business_date(now))
            return self._call(store, office, now, ticket, counter.id, actor)

        return self._view_after(self._write(work))

    @staticmethod
    def _ticket(store: QueueStore, ticket_id: int) -> Ticket:
        ticket = store.ticket(ticket_id)
        if ticket is None:
            raise NotFound(f"no ticket {ticket_id}")
        return ticket

    def act(
        self,
        ticket_id: int,
        action: Action,
        actor: str | None = None,
        category_id: str | None = None,
    ) -> TicketView:
        """Apply a clerk's action (recall, start, finish, ...) to a ticket."""

        def work(store: QueueStore, office: Office, now: datetime) -> Ticket:
            ticket = self._ticket(store, ticket_id)
            self._apply(store, office, now, ticket, action, actor, category_id)
            return ticket

        return self._view_after(self._write(work))

    def _apply(
        self,
        store: QueueStore,
        office: Office,
        now: datetime,
        ticket: Ticket,
        action: Action,
        actor: str | None,
        category_id: str | None,
    ) -> None:
        counter_id = ticket.counter_id
        if action is Action.RECALL:
            ticket.recall(now)
        elif action is Action.START:
            ticket.start(now)
        elif action is Action.FINISH:
            ticket.finish(now)
        elif action is Action.NO_SHOW:
            ticket.no_show(now)
        elif action is Action.RETURN:
            if ticket.business_date != office.business_date(now):
                raise IllegalTransition("a no-show can only come back on the same day")
            ticket.come_back(now)
        elif action is Action.TRANSFER:
            if category_id is None:
                raise IllegalTransition("transfer needs the target category_id")
            office.category(category_id)
            ticket.transfer(category_id, now)
        elif action is Action.HOLD:
            ticket.hold(now)
        elif action is Action.RESUME:
            if ticket.state is TicketState.ON_HOLD and ticket.counter_id is not None:
                self._counter_free(store, office, ticket.counter_id, ticket.business_date)
            ticket.resume(now)
        elif action is Action.CANCEL:
            ticket.cancel(now)
        else:
            raise IllegalTransition(f"{action.value} is not a clerk action")
        store.save_ticket(ticket, actor)
        self._emit(store, office, now, _EVENT_KINDS[action], ticket=ticket, counter_id=counter_id)

    def set_counter_state(
        self, counter_id: str, state: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Open, pause or close a counter (affects calls and wait estimates)."""
        if state not in COUNTER_STATES:
            raise IllegalTransition(f"counter state must be one of {', '.join(COUNTER_STATES)}")

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            counter = office.counter(counter_id)
            store.set_counter_state(counter.id, state, now)
            # The state is kept in the event so pauses can be learnt from the event log.
            self._emit(
                store,
                office,
                now,
                "counter.changed",
                counter_id=counter.id,
                detail={"state": state},
            )
            return {"id": counter.id, "number": counter.number, "state": state}

        return self._write(work)

    # -- printing and device health ---------------------------------------------------------

    def record_print(
        self, ticket_id: int, outcome: str, reason: str | None, device: str | None
    ) -> TicketView:
        """Keep whether a ticket's slip came out; a failure is published as an alert."""
        if outcome not in PRINT_OUTCOMES:
            raise InvalidRequest(f"outcome must be one of {', '.join(PRINT_OUTCOMES)}")

        def work(store: QueueStore, office: Office, now: datetime) -> Ticket:
            ticket = self._ticket(store, ticket_id)
            ticket.print_outcome, ticket.print_reason = outcome, reason
            store.set_print_outcome(ticket, outcome, reason, now)
            kind = "ticket.printed" if outcome == "printed" else "ticket.print_failed"
            self._emit(
                store, office, now, kind, ticket=ticket, detail={"device": device, "reason": reason}
            )
            return ticket

        return self._view_after(self._write(work))

    def report_health(self, device: str, health: Mapping[str, Any]) -> bool:
        """Store a device's health report; publish it when it changed. True when it changed."""

        def work(store: QueueStore, office: Office, now: datetime) -> bool:
            changed = store.device_health(device) != dict(health)
            store.set_device_health(device, health, now)
            if changed:
                self._emit(
                    store,
                    office,
                    now,
                    "device.health",
                    detail={"device": device, "health": dict(health)},
                )
            return changed

        return self._write(work)

    def devices(self) -> list[dict[str, Any]]:
        """Kiosks and boards with their last health report (printer alerts for staff)."""
        return self._read(lambda store, office, now: store.devices())

    def printers(self) -> list[dict[str, Any]]:
        """The printers the server can print on (for reprints)."""
        return self._read(
            lambda store, office, now: [{"id": p.id, "name": p.name} for p in office.printers]
        )

    def reprint(self, ticket_id: int, printer_id: str, actor: str | None = None) -> dict[str, Any]:
        """Print a ticket's slip again on one of the office's printers, now or not at all."""
        if self._slip_printer is None:
            raise InvalidRequest("this server has no printing configured")
        view = self.ticket(ticket_id)
        office = self._office_cache[1] if self._office_cache else None
        assert office is not None
        printer = office.printer(printer_id)
        result = self._slip_printer.print_ticket(printer, office, jsonable(view, office.zone))
        outcome = str(result.get("outcome", "failed"))
        reason = result.get("reason")
        updated = self.record_print(
            ticket_id, outcome, None if reason is None else str(reason), actor
        )
        return {
            "ticket": updated,
            "print": result,
            "printer": {"id": printer.id, "name": printer.name},
        }

    def attach(self, ticket_id: int, kind: str, data: Mapping[str, Any]) -> None:
        """Keep personal data for the clerk with a ticket, until day close."""

        def work(store: QueueStore, office: Office, now: datetime) -> None:
            ticket = self._ticket(store, ticket_id)
            if not ticket.is_open:
                raise IllegalTransition(f"ticket {ticket.display_number} is closed")
            store.attach(ticket, kind, data, now)

        self._write(work)

    def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        return self._read(
            lambda store, office, now: store.attachments(self._ticket(store, ticket_id))
        )

    # -- reads ------------------------------------------------------------------------------

    def state(self) -> QueueState:
        """The current computed state (computed now only if there is none yet)."""
        state = self._state
        return state if state is not None else self.refresh_state()

    def refresh_state(self) -> QueueState:
        """Compute the state as the database stands now (called by the realtime hub, after
        changes and on each tick; never on a request path)."""

        def work(store: QueueStore, office: Office, now: datetime) -> QueueState:
            return self._projector.compute(store, office, now, self._state)

        state = self._read(work)
        with self._state_lock:
            current = self._state
            if current is not None and (state.seq, state.as_of) < (current.seq, current.as_of):
                return current
            self._state = state
            return state

    def status(self) -> Mapping[str, Any]:
        """The public snapshot: waiting counts, calls, estimates, counters. No personal data."""
        return self.state().status

    def ticket(self, ticket_id: int) -> TicketView:
        state = self.state()
        return self._read(
            lambda store, office, now: self._view(
                office, self._ticket(store, ticket_id), state, store
            )
        )

    def public_ticket(self, public_id: str) -> dict[str, Any]:
        """A ticket as its slip's QR shows it (JSON-ready): from the state when it is open
        there, else read (a ticket newer than the state, or one that is over)."""
        state = self.state()
        found = state.public_ticket(public_id)
        if found is not None:
            return found

        def work(store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
            ticket = store.ticket_by_public_id(public_id)
            if ticket is None:
                raise NotFound("no such ticket")
            view = self._view(office, ticket, state, store)
            figure = (
                view.estimated_wait_minutes,
                view.estimate_low_minutes,
                view.estimate_high_minutes,
            )
            return public_ticket(ticket, office, view.ahead, figure, state.seq)

        return self._read(work)

    def waiting(self, category_id: str | None = None) -> list[TicketView]:
        """Today's waiting tickets in queue order (for clerks)."""
        state = self.state()

        def work(store: QueueStore, office: Office, now: datetime) -> list[TicketView]:
            if category_id is not None:
                office.category(category_id)
            day = office.business_date(now)
            return [self._view(office, t, state, store) for t in store.waiting(day, category_id)]

        return self._read(work)

    def office_info(self) -> dict[str, Any]:
        """What a kiosk or page needs to know about the office."""
        return self._read(self._office_info)

    def _office_info(self, store: QueueStore, office: Office, now: datetime) -> dict[str, Any]:
        local = office.local(now)
        hours = office.calendar.hours_on(local.date())
        week = []
        for offset in range(7):
            day = local.date() + timedelta(days=offset)
            day_hours = office.calendar.hours_on(day)
            week.append(
                {
                    "date": day,
                    "hours": str(day_hours) if day_hours else None,
                    "closed_reason": office.calendar.closed_reason(day),
                }
            )
        return {
            "id": office.id,
            "names": dict(office.names),
            "timezone": office.timezone,
            "languages": list(LANGUAGES),
            "now": now,
            "business_date": local.date(),
            "open": office.is_open(now),
            "hours_today": str(hours) if hours else None,
            "week": week,
            "closed_days": [
                {"date": d, "reason": r}
                for d, r in office.calendar.upcoming_closed_days(local.date(), 60)
            ],
            "categories": [
                {
                    "id": c.id,
                    "names": dict(c.names),
                    "prefix": c.prefix,
                    "fee": c.fee,
                    "daily_cap": c.daily_cap,
                    "last_reception": c.last_reception.strftime("%H:%M")
                    if c.last_reception
                    else None,
                    "waiting_area": dict(c.waiting_area),
                    "forms": list(c.forms),
                    "reservable": c.reservable,
                    "open_now": office.reception_closed_reason(c, now) is None,
                    "closed_reason": office.reception_closed_reason(c, now),
                }
                for c in office.categories
            ],
            "counters": [
                {
                    "id": c.id,
                    "number": c.number,
                    "names": dict(c.names),
                    "categories": list(c.categories),
                }
                for c in office.counters
            ],
        }


def _event_ticket(ticket: Ticket, office: Office) -> dict[str, Any]:
    return {
        "id": ticket.id,
        "number": ticket.display_number,
        "category_id": ticket.category_id,
        "state": ticket.state.value,
        "priority": ticket.priority.value,
        "counter_id": ticket.counter_id,
        "counter_number": office.counter(ticket.counter_id).number if ticket.counter_id else None,
        "recall_count": ticket.recall_count,
    }


def _then(future: Future[T], then: Callable[[T], U]) -> Future[U]:
    """A future of `then(result)`, computed where `future` completes."""
    out: Future[U] = Future()

    def chain(done: Future[T]) -> None:
        try:
            out.set_result(then(done.result()))
        except BaseException as exc:
            out.set_exception(exc)

    future.add_done_callback(chain)
    return out
