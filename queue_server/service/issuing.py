"""Issuing: numbered tickets, scanned codes, pre-applications and prefilled requests.

The people ahead of a new ticket are counted in the write (exact); the estimate for that place
comes from the current `QueueState`, so issuing never runs the estimator.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from concurrent.futures import Future
from datetime import date, datetime, timedelta
from typing import Any

from queue_server.domain.codes import (
    CodeExpired,
    CodeUnknown,
    CodeUsed,
    RetiredKey,
    VisitCode,
    fingerprint,
    make_code,
    read_code,
)
from queue_server.domain.errors import (
    DailyCapReached,
    NotFound,
    NumberRangeExhausted,
    OfficeClosed,
)
from queue_server.domain.forms import fee_total
from queue_server.domain.forms import form as form_spec
from queue_server.domain.forms import validate as validate_form
from queue_server.domain.office import LANGUAGES, Category, Office
from queue_server.domain.reservations import Reservation, check_in_window, rule_of
from queue_server.domain.ticket import Priority, Ticket
from queue_server.service.core import InvalidRequest, UnsupportedLanguage, then
from queue_server.service.form_words import form_schema
from queue_server.service.ports import CodeStore, NumberStore, QueueStore, RequestRenderer
from queue_server.service.reads import Reads
from queue_server.service.reserving import Reserving
from queue_server.service.views import TicketView


class Issuing(Reserving, Reads):
    """Give visitors numbers; take pre-applications; show clerks the prefilled requests."""

    # Set by `QueueService`.
    _code_secret: bytes | None
    _retired_code_keys: tuple[RetiredKey, ...]
    _renderer: RequestRenderer | None
    _preapplication_days: int

    def verify_code(self, text: str) -> VisitCode:
        """Check a scanned code (signature, expiry, known category, not used yet)."""

        def work(store: QueueStore, office: Office, now: datetime) -> VisitCode:
            booking, visit = self._scanned(store, office, now, text)
            if visit is None:
                assert booking is not None
                closes = check_in_window(
                    rule_of(office.category(booking.category_id)), booking.slot_start
                )[1]
                return VisitCode("reservation", booking.category_id, "", closes)
            return visit

        return self._read(work)

    def _valid_code(self, store: CodeStore, office: Office, now: datetime, text: str) -> VisitCode:
        if self._code_secret is None:
            raise CodeUnknown("this server does not accept codes")
        code = read_code(self._code_secret, text, now, self._retired_code_keys)
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
            booking, visit = self._scanned(store, office, now, code)
            code_category = visit.category_id if visit else booking.category_id if booking else None
            if code_category is not None and category_id not in (None, code_category):
                raise InvalidRequest("the code is for another procedure")
            category = office.category(code_category or str(category_id))
            prefilled = self._request_for(
                store, category, visit, request, office.business_date(now)
            )
            reason = office.reception_closed_reason(category, now)
            if reason is not None:
                raise OfficeClosed(f"{category.names['ja']} is not taking tickets now ({reason})")
            day = office.business_date(now)
            # A booked visit was promised its place: the daily cap is for walk-ins.
            number = self._next_number(store, category, day, capped=booking is None)
            chosen = Priority(visit.priority) if visit else priority
            if booking is not None:
                chosen = Priority.RESERVATION
            early = booking is not None and booking.slot_start > now
            # Checked in early, a reservation waits behind everyone here now until its slot.
            ahead = store.waiting_ahead(
                category.id, day, Priority.NORMAL.rank if early else chosen.rank
            )
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
            if early:
                assert booking is not None
                ticket.queued_at = booking.slot_start  # its priority starts at its slot
            store.add_ticket(ticket, device)
            if code is not None:
                store.redeem_code(fingerprint(code), ticket, now)
            if booking is not None:
                assert ticket.id is not None  # set by add_ticket
                booking.check_in(ticket.id, now)
                store.save_reservation(booking)
            if prefilled is not None:
                store.attach(ticket, "request", prefilled, now)
            # The estimate the slip shows, kept in the event so the error can be measured when
            # the ticket is called (staff channels only: details never reach public ones).
            shown = self.state().figure(category.id, ahead)[0]
            detail = None if shown is None else {"estimated_wait_minutes": shown}
            self._emit(store, office, now, "ticket.issued", ticket=ticket, detail=detail)
            return office, ticket, ahead

        def answer(written: tuple[Office, Ticket, int]) -> TicketView:
            office, ticket, ahead = written
            return self._view(office, ticket, self.state(), ahead=ahead)

        return then(self._submit(work), answer)

    def _scanned(
        self, store: QueueStore, office: Office, now: datetime, code: str | None
    ) -> tuple[Reservation | None, VisitCode | None]:
        """The booking (checked in now) and the verified code a visitor brought, if any."""
        if code is None:
            return None, None
        booking = self._reservation_for_short_code(store, office, code, now)
        if booking is not None:
            return booking, None
        visit = self._valid_code(store, office, now, code)
        return self._reservation_for_visit(store, office, visit, now), visit

    @staticmethod
    def _request_for(
        store: CodeStore,
        category: Category,
        visit: VisitCode | None,
        request: Mapping[str, Any] | None,
        today: date,
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
        cleaned = validate_form(form_id, fields, today)
        return {"form": form_id, "fields": cleaned, "source": "kiosk"}

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
            cleaned = validate_form(form_id, fields, office.business_date(now))
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
        office = self._cached_office()
        pdf = self._renderer.render(office, request, request["number"])
        self._write(
            lambda store, office, now: store.audit(actor, "request.printed", ticket_id, now)
        )
        return request["number"], pdf

    @staticmethod
    def _next_number(store: NumberStore, category: Category, day: date, capped: bool = True) -> int:
        # Taken first and checked after: a refusal rolls the job's savepoint back, number too.
        number = store.take_number(category.id, day, category.number_start)
        issued = number - category.number_start + 1
        if capped and category.daily_cap is not None and issued > category.daily_cap:
            raise DailyCapReached(
                f"{category.names['ja']}: today's {category.daily_cap} tickets are all issued"
            )
        if number > category.number_end:
            last_display = category.display_number(category.number_end)
            raise NumberRangeExhausted(
                f"{category.names['ja']}: numbers up to {last_display} are used up today"
            )
        return number
