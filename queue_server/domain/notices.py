"""Opt-in notices about one ticket ("N people ahead", "called to counter X"), sent once each.

A subscription names a ticket, a channel and an address (an e-mail address, a LINE user id,
a browser's Web Push subscription).
Which notices are due is a pure function of the ticket's state and people ahead; each notice has
a key, and a key once sent is never sent again. Nothing is due once the ticket is over (done,
cancelled, no-show). Messages carry the number and the counter only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

CHANNELS = ("email", "line", "webpush")
#: How often one notice is tried before it is given up.
NOTICE_ATTEMPTS = 5


@dataclass
class Subscription:
    token: str  # the one-tap unsubscribe key (unguessable)
    ticket_id: int
    business_date: date
    channel: str
    address: str
    ahead: int | None  # notify when this many people or fewer are ahead; None: only the call
    language: str
    created_at: datetime
    sent: list[str] = field(default_factory=list)  # keys of notices sent
    attempts: int = 0  # failed sends of the notice due now
    id: int | None = None


@dataclass(frozen=True)
class Notice:
    key: str  # "ahead", "called-0", "called-1" (a recall is a new call)
    kind: str  # "ahead" or "called"
    values: dict[str, object]


def due_notices(
    subscription: Subscription,
    *,
    state: str,
    number: str,
    ahead: int | None,
    counter: int | None,
    recall_count: int,
) -> list[Notice]:
    """The notices to send now for one subscription, given its ticket as it stands."""
    if subscription.attempts >= NOTICE_ATTEMPTS:
        return []
    out: list[Notice] = []
    if state == "called" and counter is not None:
        key = f"called-{recall_count}"
        if key not in subscription.sent:
            out.append(Notice(key, "called", {"number": number, "counter": counter}))
    elif (
        state == "issued"
        and ahead is not None
        and subscription.ahead is not None
        and ahead <= subscription.ahead
        and "ahead" not in subscription.sent
    ):
        out.append(Notice("ahead", "ahead", {"number": number, "n": ahead}))
    return out
