"""Calling and the ticket lifecycle: call the next or a chosen ticket, clerks' actions,
counter states. Two clerks never get the same ticket: every call runs under the office lock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from queue_server.domain.dispatch import (
    choose_next,
    next_in_queue,
    reservation_waiting_for_its_slot,
)
from queue_server.domain.errors import CategoryNotServed, CounterBusy, IllegalTransition
from queue_server.domain.office import Office
from queue_server.domain.ticket import Action, Ticket, TicketState
from queue_server.service.ports import QueueStore, TicketStore
from queue_server.service.reads import Reads
from queue_server.service.views import TicketView

COUNTER_STATES = ("open", "paused", "closed")
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


class Calling(Reads):
    """Call tickets to counters and move them through their lifecycle."""

    def _counter_free(self, store: TicketStore, office: Office, counter_id: str, day: date) -> None:
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
            ticket = choose_next(counter, lambda c: self._head(store, c, day, now))
            if ticket is None:
                return None
            return self._call(store, office, now, ticket, counter.id, actor)

        called = self._write(work)
        return None if called is None else self._view_after(called)

    @staticmethod
    def _head(store: TicketStore, category_id: str, day: date, now: datetime) -> Ticket | None:
        """The category's next ticket; the whole queue is read only when a reservation waits
        for its slot at the head (`domain.dispatch`)."""
        head = store.head_of_queue(category_id, day)
        if head is None or not reservation_waiting_for_its_slot(head, now):
            return head
        return next_in_queue(store.waiting(day, category_id), now)

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
            # The state is kept in the event so pauses can be learnt from the event log; the
            # actor reaches staff channels only (`detail` is projected away elsewhere).
            self._emit(
                store,
                office,
                now,
                "counter.changed",
                counter_id=counter.id,
                detail={"state": state, "actor": actor},
            )
            store.audit(
                actor or "unknown", "counter.state", None, now, f"counter={counter.id} {state}"
            )
            return {"id": counter.id, "number": counter.number, "state": state}

        return self._write(work)
