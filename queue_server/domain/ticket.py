"""Tickets (整理券) and their lifecycle.

issued -> called -> serving -> done; called -> called (recall, counted); called -> no_show and
no_show -> issued (the visitor came back); called|serving -> issued in another category
(transfer: same number, next section); serving <-> on_hold; any open state -> cancelled.
Every transition is recorded so waits and service times are measured, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from queue_server.domain.errors import IllegalTransition


class TicketState(StrEnum):
    ISSUED = "issued"
    CALLED = "called"
    SERVING = "serving"
    ON_HOLD = "on_hold"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


OPEN_STATES = frozenset(
    {TicketState.ISSUED, TicketState.CALLED, TicketState.SERVING, TicketState.ON_HOLD}
)
#: States in which a ticket occupies its counter.
AT_COUNTER_STATES = frozenset({TicketState.CALLED, TicketState.SERVING})


class Priority(StrEnum):
    NORMAL = "normal"
    RESERVATION = "reservation"
    ASSISTANCE = "assistance"  # elderly, disabled, with small children

    @property
    def rank(self) -> int:
        """Lower is called first."""
        return _PRIORITY_RANK[self]


_PRIORITY_RANK = {Priority.ASSISTANCE: 0, Priority.RESERVATION: 1, Priority.NORMAL: 2}


class Action(StrEnum):
    ISSUE = "issue"
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no-show"
    RETURN = "return"
    TRANSFER = "transfer"
    HOLD = "hold"
    RESUME = "resume"
    CANCEL = "cancel"
    CLOSE_OUT = "close-out"  # day close


_ALLOWED: dict[Action, tuple[frozenset[TicketState], TicketState]] = {
    Action.CALL: (frozenset({TicketState.ISSUED}), TicketState.CALLED),
    Action.RECALL: (frozenset({TicketState.CALLED}), TicketState.CALLED),
    Action.START: (frozenset({TicketState.CALLED}), TicketState.SERVING),
    # Finishing straight from "called" is allowed: many clerks never press "start".
    Action.FINISH: (frozenset({TicketState.CALLED, TicketState.SERVING}), TicketState.DONE),
    Action.NO_SHOW: (frozenset({TicketState.CALLED}), TicketState.NO_SHOW),
    Action.RETURN: (frozenset({TicketState.NO_SHOW}), TicketState.ISSUED),
    Action.TRANSFER: (frozenset({TicketState.CALLED, TicketState.SERVING}), TicketState.ISSUED),
    Action.HOLD: (frozenset({TicketState.SERVING}), TicketState.ON_HOLD),
    Action.RESUME: (frozenset({TicketState.ON_HOLD}), TicketState.SERVING),
    Action.CANCEL: (OPEN_STATES, TicketState.CANCELLED),
    Action.CLOSE_OUT: (OPEN_STATES, TicketState.CANCELLED),
}


@dataclass(frozen=True)
class Transition:
    """One recorded state change of a ticket."""

    action: Action
    from_state: TicketState | None
    to_state: TicketState
    at: datetime
    category_id: str
    counter_id: str | None = None
    from_category_id: str | None = None
    service_minutes: float | None = None  # counter time of the segment this transition ends


@dataclass
class Ticket:
    """A numbered ticket for one visit; its number stays the same through transfers."""

    office_id: str
    business_date: date
    category_id: str
    number: int
    display_number: str
    public_id: str
    priority: Priority
    language: str
    issued_at: datetime
    state: TicketState = TicketState.ISSUED
    queued_at: datetime | None = None
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counter_id: str | None = None
    recall_count: int = 0
    id: int | None = None
    print_outcome: str | None = None  # printed / failed: the slip, not the lifecycle
    print_reason: str | None = None
    transitions: list[Transition] = field(default_factory=list)

    @classmethod
    def issue(
        cls,
        *,
        office_id: str,
        business_date: date,
        category_id: str,
        number: int,
        display_number: str,
        public_id: str,
        priority: Priority,
        language: str,
        at: datetime,
    ) -> Ticket:
        """A new ticket in the waiting queue of `category_id`."""
        ticket = cls(
            office_id=office_id,
            business_date=business_date,
            category_id=category_id,
            number=number,
            display_number=display_number,
            public_id=public_id,
            priority=priority,
            language=language,
            issued_at=at,
            queued_at=at,
        )
        ticket.transitions.append(
            Transition(Action.ISSUE, None, TicketState.ISSUED, at, category_id)
        )
        return ticket

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def _check(self, action: Action) -> TicketState:
        sources, target = _ALLOWED[action]
        if self.state not in sources:
            allowed = ", ".join(sorted(s.value for s in sources))
            raise IllegalTransition(
                f"cannot {action.value} ticket {self.display_number}: it is {self.state.value}"
                f" (allowed from: {allowed})"
            )
        return target

    def _move(
        self,
        action: Action,
        at: datetime,
        *,
        counter_id: str | None = None,
        from_category_id: str | None = None,
        service_minutes: float | None = None,
    ) -> None:
        target = self._check(action)
        previous = self.state
        self.state = target
        self.transitions.append(
            Transition(
                action,
                previous,
                target,
                at,
                self.category_id,
                counter_id if counter_id is not None else self.counter_id,
                from_category_id,
                service_minutes,
            )
        )

    def _segment_minutes(self, at: datetime) -> float | None:
        if self.called_at is None:
            return None
        return max(0.0, (at - self.called_at).total_seconds() / 60.0)

    def call(self, counter_id: str, at: datetime) -> None:
        self._move(Action.CALL, at, counter_id=counter_id)
        self.counter_id = counter_id
        self.called_at = at
        self.recall_count = 0

    def recall(self, at: datetime) -> None:
        self._move(Action.RECALL, at)
        self.recall_count += 1

    def start(self, at: datetime) -> None:
        self._move(Action.START, at)
        self.started_at = at

    def finish(self, at: datetime) -> None:
        self._move(Action.FINISH, at, service_minutes=self._segment_minutes(at))
        self.finished_at = at

    def no_show(self, at: datetime) -> None:
        self._move(Action.NO_SHOW, at)

    def come_back(self, at: datetime) -> None:
        """The visitor returned after a no-show: back in the queue at their original place."""
        self._move(Action.RETURN, at)
        self.counter_id = None
        self.called_at = None
        self.started_at = None

    def transfer(self, category_id: str, at: datetime) -> None:
        """Send the visitor on to another section; the number stays, the queue place is new."""
        if category_id == self.category_id:
            raise IllegalTransition(
                f"ticket {self.display_number} is already in category {category_id!r}"
            )
        self._check(Action.TRANSFER)
        previous_category = self.category_id
        minutes = self._segment_minutes(at)
        self.category_id = category_id
        self._move(
            Action.TRANSFER,
            at,
            from_category_id=previous_category,
            service_minutes=minutes,
        )
        self.counter_id = None
        self.called_at = None
        self.started_at = None
        self.queued_at = at

    def hold(self, at: datetime) -> None:
        self._move(Action.HOLD, at)

    def resume(self, at: datetime) -> None:
        self._move(Action.RESUME, at)

    def cancel(self, at: datetime) -> None:
        self._move(Action.CANCEL, at)

    def close_out(self, at: datetime) -> None:
        """Day close: an open ticket ends without service."""
        self._move(Action.CLOSE_OUT, at)
