"""Which waiting ticket a counter calls next.

A counter serves its categories in priority order; within one category the queue is ordered by
ticket priority, then by the time the ticket joined the queue (oldest first), then by number.
"""

from __future__ import annotations

from collections.abc import Callable

from queue_server.domain.office import Counter
from queue_server.domain.ticket import Ticket


def choose_next(counter: Counter, head_of: Callable[[str], Ticket | None]) -> Ticket | None:
    """The ticket `counter` calls next, given the head of each category's queue."""
    for category_id in counter.categories:
        head = head_of(category_id)
        if head is not None:
            return head
    return None
