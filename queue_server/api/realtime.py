"""Per-process fan-out of office events and of the computed queue state, in seq order.

The hub receives bus notices and turns them into a gap-free ordered stream of events. After
events (debounced) and on every clock tick it has the service compute the `QueueState` once and
publishes it as a status to every subscriber. Two rules keep what a client sees consistent:
- a status for seq S is published only after every event up to S (the hub first fills any gap
  from the database), so a client never sees figures from the future of its event stream;
- a client that has seen a newer event than a status skips that status (see `ws.stream`).

Messages are encoded once per event or state, not once per subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from queue_server.adapters.event_bus import EventBus, Notice
from queue_server.service.state import QueueState

logger = logging.getLogger(__name__)
CLERK, OTHERS = 0, 1  # which encoding of an event a channel receives


#: What non-staff channels never see of a ticket: the internal id, and the priority (that a
#: number belongs to someone who asked for assistance is about that person).
_STAFF_ONLY = ("id", "priority")


def project(event: dict[str, Any]) -> dict[str, Any]:
    """An event as non-staff channels see it: without details (printer alerts, actors), internal
    ticket ids or priorities; type and seq stay, so their stream has no gap."""
    projected = {k: v for k, v in event.items() if k != "detail"}
    if event.get("ticket"):
        projected["ticket"] = {k: v for k, v in event["ticket"].items() if k not in _STAFF_ONLY}
    return projected


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def event_messages(event: dict[str, Any]) -> tuple[str, str]:
    """The `event` message for clerks and for every other channel."""
    seq = int(event["seq"])
    return (
        _dumps({"type": "event", "seq": seq, "event": event}),
        _dumps({"type": "event", "seq": seq, "event": project(event)}),
    )


def state_message(kind: str, state: QueueState) -> str:
    """A `snapshot` or `status` message of a computed state (its status is serialised once)."""
    return f'{{"type":"{kind}","seq":{state.seq},"status":{state.status_json}}}'


#: What a subscriber receives: ("event", seq, (clerk text, others text)) or ("status", seq, text).
Item = tuple[str, int, Any]


class Subscription:
    """One listener's queue; on overflow the listener must resynchronise with a snapshot."""

    def __init__(self, size: int = 500) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize=size)
        self.overflowed = False

    def put(self, item: Item) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.overflowed = True


class Hub:
    """Receives bus notices, orders them, fans events and computed states out."""

    def __init__(
        self,
        office_id: str,
        bus: EventBus,
        events_after: Callable[[int], list[dict[str, Any]]],
        current_seq: Callable[[], int],
        refresh_state: Callable[[], QueueState],
        check_seconds: float = 2.0,
        status_interval: float = 0.25,
        tick_seconds: float = 30.0,
        buffered_events: int = 5000,
    ) -> None:
        self._refresh_state = refresh_state
        self._status_interval = status_interval
        self._tick_seconds = tick_seconds
        self._dirty = asyncio.Event()
        self._office_id = office_id
        self._bus = bus
        self._events_after = events_after
        self._current_seq = current_seq
        self._check_seconds = check_seconds
        self._inbox: asyncio.Queue[Notice] = asyncio.Queue()
        self._subscribers: set[Subscription] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._recent: deque[tuple[int, tuple[str, str]]] = deque(maxlen=buffered_events)
        self.last_seq = 0
        self.refreshes = 0  # states computed (for monitoring and tests)
        self._state: QueueState | None = None
        # Observers (metrics): each delivered event, and each recompute's duration in seconds.
        self.on_event: list[Callable[[dict[str, Any]], None]] = []
        self.on_refresh: list[Callable[[float], None]] = []

    @property
    def state(self) -> QueueState:
        assert self._state is not None, "the hub has not started"
        return self._state

    async def start(self) -> None:
        self.last_seq = await asyncio.to_thread(self._current_seq)
        self._state = await asyncio.to_thread(self._refresh_state)
        self._tasks = [
            asyncio.create_task(self._bus.listen(self._inbox.put_nowait)),
            asyncio.create_task(self._pump()),
            asyncio.create_task(self._check()),
            asyncio.create_task(self._refresh()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def changed(self) -> None:
        """Something outside the event stream changed (e.g. the office file): recompute."""
        self._dirty.set()

    def events_since(self, seq: int) -> list[tuple[int, tuple[str, str]]] | None:
        """Delivered events after `seq`, from memory; None when they are no longer kept."""
        if seq >= self.last_seq:
            return []
        if not self._recent or self._recent[0][0] > seq + 1:
            return None
        start = seq + 1 - self._recent[0][0]
        return list(itertools.islice(self._recent, start, None))

    def _deliver(self, event: dict[str, Any]) -> None:
        seq = int(event["seq"])
        self.last_seq = seq
        texts = event_messages(event)
        self._recent.append((seq, texts))
        item: Item = ("event", seq, texts)
        for subscription in list(self._subscribers):
            subscription.put(item)
        for observe in self.on_event:
            observe(event)
        self._dirty.set()

    async def _fill_to(self, seq: int) -> None:
        """Deliver every committed event up to `seq` (those the bus has not brought yet)."""
        while self.last_seq < seq:
            events = await asyncio.to_thread(self._events_after, self.last_seq)
            delivered = False
            for event in events:
                if int(event["seq"]) == self.last_seq + 1 and self.last_seq < seq:
                    self._deliver(event)
                    delivered = True
            if not delivered:
                return

    async def _refresh(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), self._tick_seconds)
            self._dirty.clear()
            started = time.perf_counter()
            try:
                state = await asyncio.to_thread(self._refresh_state)
                await self._fill_to(state.seq)
            except Exception as exc:
                logger.warning("realtime: state refresh failed (%s)", type(exc).__name__)
                self._dirty.set()
            else:
                self._state = state
                self.refreshes += 1
                item: Item = ("status", state.seq, state_message("status", state))
                for subscription in list(self._subscribers):
                    subscription.put(item)
            # A busy office makes each recompute dearer (longer queues): space them so that
            # they never take more than a tenth of the time, whatever the load.
            spent = time.perf_counter() - started
            for observe in self.on_refresh:
                observe(spent)
            await asyncio.sleep(max(self._status_interval, 9 * spent))

    async def _pump(self) -> None:
        while True:
            notice = await self._inbox.get()
            if notice.office_id != self._office_id or notice.seq <= self.last_seq:
                continue
            if notice.seq == self.last_seq + 1 and notice.event is not None:
                self._deliver(dict(notice.event))
                continue
            try:
                await self._fill_to(notice.seq)
            except Exception as exc:  # database briefly away: the periodic check retries
                logger.warning("realtime: catch-up failed (%s)", type(exc).__name__)

    async def _check(self) -> None:
        while True:
            await asyncio.sleep(self._check_seconds)
            try:
                seq = await asyncio.to_thread(self._current_seq)
            except Exception as exc:
                logger.warning("realtime: seq check failed (%s)", type(exc).__name__)
                continue
            if seq > self.last_seq:
                self._inbox.put_nowait(Notice(self._office_id, seq, None))
