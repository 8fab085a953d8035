"""Push anonymised state to the internet-facing relay (三層分離: the relay never connects in).

A task of the server process listens to the realtime hub like any other subscriber and sends
what residents may see — public events, the computed status, each ticket's slip-page view, the
public JSON documents — as signed pushes (relay/protocol.py). It starts with a snapshot, then
sends deltas; a relay that answers 409 (it restarted, or lost a push) gets a snapshot next, and
so does every relay every `relay_snapshot_seconds` (the documents change with the date). Pushes
that fail are retried with growing pauses while new events accumulate; nothing personal is ever
in a push: numbers, counts, states, counters and estimates only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from datetime import date
from typing import TYPE_CHECKING, Any

import aiohttp

from queue_server.adapters.leader import LeaderLock
from queue_server.api.console import statistics
from queue_server.api.opendata import SCHEMA, hourly_document
from queue_server.api.pages import lamp_config
from queue_server.api.realtime import OTHERS, Hub
from queue_server.api.relay_pull import reservation_availability
from queue_server.service.jsonable import jsonable
from relay.protocol import AVAILABILITY, SIGNATURE_HEADER, TIMESTAMP_HEADER, encode, sign

if TYPE_CHECKING:
    from queue_server.api.deps import Container
    from queue_server.service.state import QueueState

logger = logging.getLogger(__name__)
_BATCH_SECONDS = 0.05  # gather what arrives together into one push
_MAX_PENDING = 2000  # events kept while the relay is away; past this, a snapshot instead
_LEADER_RETRY_SECONDS = 5.0
_BACKOFF = (0.5, 1.0, 2.0, 5.0)  # a relay back from an outage is caught up within seconds


def public_documents(c: Container) -> dict[str, Any]:
    """The public JSON documents the residents' pages read besides the live status."""
    office = jsonable(c.service.office_info(), c.service.zone)
    today = date.fromisoformat(str(office["business_date"]))
    return {
        "/api/v1/office": office,
        "/api/v1/pages/config": lamp_config(c),
        "/api/v1/congestion/typical": statistics(c).typical(today),
        "/opendata/hourly.json": jsonable(hourly_document(c), c.service.zone),
        "/opendata/schema.json": SCHEMA,
        AVAILABILITY: reservation_availability(c),  # /reserve on the relay
    }


def _ticket_views(state: QueueState) -> dict[str, str]:
    """Each open ticket's slip-page view, encoded (to compare with what was pushed)."""
    views = {}
    for public_id in state.open_tickets:
        view = state.public_ticket(public_id)
        if view is not None:
            views[public_id] = json.dumps(view, ensure_ascii=False, sort_keys=True)
    return views


class RelayPusher:
    """Sends the hub's public stream to one relay URL, signed with `secret`."""

    def __init__(
        self, c: Container, hub: Hub, url: str, secret: bytes, snapshot_seconds: float = 60.0
    ) -> None:
        self._c = c
        self._hub = hub
        self._url = url.rstrip("/") + "/push"
        self._secret = secret
        self._snapshot_seconds = snapshot_seconds
        self._office_id = c.stores.office_id
        self._seq = 0  # the last seq the relay has from us
        self._pushed: dict[str, str] = {}  # public id -> view last pushed
        self.pushes = 0
        self.failures = 0
        self.last_ok: float | None = None
        self.resyncs = 0  # snapshots sent to repair: the relay refused a delta, or we lagged

    async def run(self) -> None:
        """Push while this process holds the push lock (one pusher among several processes)."""
        lock = LeaderLock(self._c.stores.engine, "relay-push")
        try:
            while not await asyncio.to_thread(lock.try_acquire):
                await asyncio.sleep(_LEADER_RETRY_SECONDS)
            await self._push_forever()
        finally:
            await asyncio.to_thread(lock.release)

    async def _push_forever(self) -> None:
        subscription = self._hub.subscribe()
        need_snapshot = True
        last_snapshot: float | None = None  # monotonic; None: none sent yet
        pending: list[tuple[int, str]] = []
        failures = 0
        repairing = False
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            try:
                while True:
                    # Something unsent (the first snapshot, a repair, a failed delta) goes out
                    # now, after the back-off below; otherwise wait for events or the next
                    # periodic snapshot.
                    if need_snapshot or pending or last_snapshot is None:
                        due = 0.0
                    else:
                        due = max(0.0, last_snapshot + self._snapshot_seconds - time.monotonic())
                    with contextlib.suppress(TimeoutError):
                        item = await asyncio.wait_for(subscription.queue.get(), due)
                        await asyncio.sleep(_BATCH_SECONDS)
                        items = [item]
                        while not subscription.queue.empty():
                            items.append(subscription.queue.get_nowait())
                        pending += [(s, t[OTHERS]) for kind, s, t in items if kind == "event"]
                    if subscription.overflowed or len(pending) > _MAX_PENDING:
                        subscription.overflowed = False
                        need_snapshot = repairing = True
                    if last_snapshot is None or (
                        time.monotonic() - last_snapshot >= self._snapshot_seconds
                    ):
                        need_snapshot = True
                    if need_snapshot:
                        pending.clear()
                        body = await self._snapshot()
                    else:
                        body = await self._delta(pending)
                    answer = await self._send(session, body)
                    if answer == 200:
                        failures = 0
                        self._seq = json.loads(body)["seq"]
                        pending.clear()
                        if need_snapshot:
                            last_snapshot = time.monotonic()
                            self.resyncs += repairing
                        need_snapshot = repairing = False
                        continue
                    repairing = repairing or answer in (409, 400, 401, 403)
                    need_snapshot = need_snapshot or repairing
                    failures += 1
                    await asyncio.sleep(_BACKOFF[min(failures, len(_BACKOFF)) - 1])
            finally:
                self._hub.unsubscribe(subscription)

    async def _snapshot(self) -> bytes:
        state = self._hub.state
        documents = await asyncio.to_thread(public_documents, self._c)
        views = _ticket_views(state)
        self._pushed = dict(views)
        return encode(
            self._office_id,
            self._hub.last_seq,
            time.time(),
            snapshot=True,
            status=state.status_json,
            status_seq=state.seq,
            tickets={pid: json.loads(view) for pid, view in views.items()},
            documents=documents,
        )

    async def _delta(self, events: list[tuple[int, str]]) -> bytes:
        state = self._hub.state
        views = _ticket_views(state)
        changed = {pid: v for pid, v in views.items() if self._pushed.get(pid) != v}
        gone = [pid for pid in self._pushed if pid not in views]
        tickets: dict[str, Any] = {pid: json.loads(v) for pid, v in changed.items()}
        for public_id in gone:  # called, finished or cancelled since: their final view
            with contextlib.suppress(Exception):
                tickets[public_id] = await asyncio.to_thread(
                    self._c.service.public_ticket, public_id
                )
        self._pushed = dict(views)
        return encode(
            self._office_id,
            events[-1][0] if events else self._seq,
            time.time(),
            snapshot=False,
            events=[text for _, text in events],
            status=state.status_json,
            status_seq=state.seq,
            tickets=tickets or None,
        )

    async def _send(self, session: aiohttp.ClientSession, body: bytes) -> int:
        stamp = f"{time.time():.3f}"
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(self._secret, stamp, body),
        }
        try:
            async with session.post(self._url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures += 1
            logger.warning("relay push: %s unreachable (%s)", self._url, type(exc).__name__)
            return 0
        if status == 200:
            self.pushes += 1
            self.last_ok = time.time()
        elif status != 409:
            self.failures += 1
            logger.warning("relay push: %s answered %d", self._url, status)
        return status
