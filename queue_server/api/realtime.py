"""Per-process fan-out of office events to WebSocket subscribers, in seq order without gaps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from queue_server.adapters.event_bus import EventBus, Notice

logger = logging.getLogger(__name__)


#: What a subscriber receives: ("event", event) or ("status", status).
Item = tuple[str, dict[str, Any]]


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
    """Receives bus notices, turns them into a gap-free ordered stream, fans it out.

    Notices are processed one at a time by a single pump task. A notice for the next seq that
    carries its event is delivered at once; anything else (a gap, a notice without its event, the
    periodic check) is resolved by reading the committed events from the database.

    After events, the hub recomputes the office status (counts, estimates) once for all its
    subscribers, at most every `status_interval` seconds however busy the office is.
    """

    def __init__(
        self,
        office_id: str,
        bus: EventBus,
        events_after: Callable[[int], list[dict[str, Any]]],
        current_seq: Callable[[], int],
        status: Callable[[], dict[str, Any]],
        check_seconds: float = 2.0,
        status_interval: float = 0.25,
    ) -> None:
        self._status = status
        self._status_interval = status_interval
        self._dirty = asyncio.Event()
        self._office_id = office_id
        self._bus = bus
        self._events_after = events_after
        self._current_seq = current_seq
        self._check_seconds = check_seconds
        self._inbox: asyncio.Queue[Notice] = asyncio.Queue()
        self._subscribers: set[Subscription] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.last_seq = 0

    async def start(self) -> None:
        self.last_seq = await asyncio.to_thread(self._current_seq)
        self._tasks = [
            asyncio.create_task(self._bus.listen(self._inbox.put_nowait)),
            asyncio.create_task(self._pump()),
            asyncio.create_task(self._check()),
            asyncio.create_task(self._refresh_status()),
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

    def _deliver(self, event: dict[str, Any]) -> None:
        self.last_seq = int(event["seq"])
        for subscription in list(self._subscribers):
            subscription.put(("event", event))
        self._dirty.set()

    async def _refresh_status(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if not self._subscribers:
                continue
            try:
                status = await asyncio.to_thread(self._status)
            except Exception as exc:
                logger.warning("realtime: status refresh failed (%s)", type(exc).__name__)
                self._dirty.set()
            else:
                for subscription in list(self._subscribers):
                    subscription.put(("status", status))
            await asyncio.sleep(self._status_interval)

    async def _pump(self) -> None:
        while True:
            notice = await self._inbox.get()
            if notice.office_id != self._office_id or notice.seq <= self.last_seq:
                continue
            if notice.seq == self.last_seq + 1 and notice.event is not None:
                self._deliver(dict(notice.event))
                continue
            try:
                events = await asyncio.to_thread(self._events_after, self.last_seq)
            except Exception as exc:  # database briefly away: the periodic check retries
                logger.warning("realtime: catch-up failed (%s)", type(exc).__name__)
                continue
            for event in events:
                if int(event["seq"]) == self.last_seq + 1:
                    self._deliver(event)

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
