"""Pull residents' requests from the relay and answer them (三層分離: only outbound calls).

Where a relay exists, /reserve and notice subscriptions live on it; each booking, lookup,
change, cancel or (un)subscribe waits there as a request (relay/bookings.py). This task, run by
the one process holding the pull lock, long-polls the relay with signed calls
(relay/pull_protocol.py), hands each request to this server's own endpoint through the
application itself (the same validation, capacity and concurrency rules, the same answers as a
direct call), and sends the answers back. Every request id is recorded before it is processed,
with its answer after, so a request pulled again (its answer was lost, or its lease ran out) is
answered from the record, never processed twice. After a change of bookings the answer also
carries the fresh availability document, so every relay shows the new places left at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx

from queue_server.adapters.leader import LeaderLock
from queue_server.adapters.sql_relay_requests import SqlRelayRequests
from queue_server.service.jsonable import jsonable
from relay.protocol import AVAILABILITY, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from relay.pull_protocol import REQUEST_ID, REQUEST_PATHS, Answer, encode_call

if TYPE_CHECKING:
    from fastapi import FastAPI

    from queue_server.api.deps import Container

logger = logging.getLogger(__name__)
_LEADER_RETRY_SECONDS = 5.0
_BACKOFF = (0.5, 1.0, 2.0, 5.0)
_DOCUMENTS_SECONDS = 60.0  # the notice documents, resent this often
_KEEP_ANSWERS = timedelta(hours=1)  # far longer than a relay keeps asking
_FORGET_EVERY_SECONDS = 600.0
_CHANGES_BOOKINGS = frozenset(
    {"/api/v1/reservations", "/api/v1/reservations/cancel", "/api/v1/reservations/change"}
)


def reservation_availability(c: Container) -> dict[str, Any]:
    """Every reservable procedure with its bookable days and each day's slots: what /reserve
    reads, as one document for the relay (the same JSON as the queue server's endpoints)."""
    service = c.service
    procedures = service.reservable_procedures()
    days: dict[str, Any] = {}
    slots: dict[str, Any] = {}
    for procedure in procedures:
        category_id = str(procedure["id"])
        days[category_id] = service.reservation_days(category_id)
        slots[category_id] = {
            day["date"].isoformat(): service.reservation_slots(category_id, day["date"])
            for day in days[category_id]
            if not day["full"]
        }
    document: dict[str, Any] = jsonable(
        {"procedures": procedures, "days": days, "slots": slots}, service.zone
    )
    return document


class PullRefused(Exception):
    """The relay's reply is not to be trusted (bad signature, stale, or not to our call)."""


class RelayPuller:
    """Long-polls one relay for residents' requests and answers them, signed with `secret`."""

    def __init__(
        self, c: Container, app: FastAPI, url: str, secret: bytes, wait: float = 20.0
    ) -> None:
        self._c = c
        self._app = app
        self._base = url.rstrip("/")
        self._secret = secret
        self._wait = wait
        self._office_id = c.stores.office_id
        self._record = SqlRelayRequests(c.stores.engine, self._office_id)
        self.processed = 0  # requests handed to the endpoints (not answered from the record)
        # For /metrics (queue_server/api/metrics.py): pull rounds that worked (the long poll,
        # the requests processed, their answers sent) or failed, when the last one worked, and
        # requests by path and outcome ("2xx"/"4xx"/"5xx", or "from_record" / "interrupted").
        self.pulls = 0
        self.failures = 0
        self.last_ok: float | None = None
        self.outcomes: Counter[tuple[str, str]] = Counter()

    async def run(self) -> None:
        """Pull while this process holds the pull lock (one puller among several processes)."""
        lock = LeaderLock(self._c.stores.engine, "relay-pull")
        try:
            while not await asyncio.to_thread(lock.try_acquire):
                await asyncio.sleep(_LEADER_RETRY_SECONDS)
            await self._pull_forever()
        finally:
            await asyncio.to_thread(lock.release)

    async def _pull_forever(self) -> None:
        failures = 0
        documents_at = forgot_at = 0.0
        timeout = aiohttp.ClientTimeout(total=self._wait + 15)
        local = httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=self._app, client=("relay-pull", 0), raise_app_exceptions=False
            ),
            base_url="http://relay-pull",
            timeout=60,
        )
        async with aiohttp.ClientSession(timeout=timeout) as session, local:
            while True:
                try:
                    documents = None
                    if time.monotonic() - documents_at >= _DOCUMENTS_SECONDS:
                        documents = await self._notice_documents(local)
                    reply = await self._call(session, "/pull", wait=self._wait, documents=documents)
                    if documents is not None:
                        documents_at = time.monotonic()
                    requests = reply.get("requests") or []
                    answers = [await self._process(local, item) for item in requests]
                    if answers:
                        changed = any(
                            item.get("path") in _CHANGES_BOOKINGS and a.status < 300
                            for item, a in zip(requests, answers, strict=True)
                        )
                        fresh = None
                        if changed:
                            fresh = {
                                AVAILABILITY: await asyncio.to_thread(
                                    reservation_availability, self._c
                                )
                            }
                        # Not retried: a lost answer comes back as a request after its lease,
                        # and is answered from the record.
                        await self._call(session, "/answer", answers=answers, documents=fresh)
                    failures = 0
                    self.pulls += 1
                    self.last_ok = time.time()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the relay, the network or the database: retry
                    # (an unanswered request comes back after its lease)
                    failures += 1
                    self.failures += 1
                    logger.warning("relay pull: %s failed (%s)", self._base, type(exc).__name__)
                    await asyncio.sleep(_BACKOFF[min(failures, len(_BACKOFF)) - 1])
                if time.monotonic() - forgot_at >= _FORGET_EVERY_SECONDS:
                    forgot_at = time.monotonic()
                    with contextlib.suppress(Exception):
                        await asyncio.to_thread(
                            self._record.forget, datetime.now(UTC) - _KEEP_ANSWERS
                        )

    async def _notice_documents(self, local: httpx.AsyncClient) -> dict[str, Any]:
        channels = (await local.get("/api/v1/notify/channels")).json()
        key = await local.get("/api/v1/notify/vapid-public-key")
        return {
            "/api/v1/notify/channels": channels,
            "/api/v1/notify/vapid-public-key": {
                "key": key.json()["key"] if key.status_code == 200 else None
            },
        }

    async def _process(self, local: httpx.AsyncClient, item: Any) -> Answer:
        """One request through this server's own endpoint, exactly once per request id."""
        request_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(request_id, str) or not REQUEST_ID.match(request_id):
            raise PullRefused("a request without a valid id")
        path = item.get("path")
        if path not in REQUEST_PATHS:
            return Answer(request_id, 404, _error("not_found", "not a relayed endpoint"))
        now = datetime.now(UTC)
        stored = await asyncio.to_thread(self._record.claim, request_id, path, now)
        if stored is not None:
            if stored.status is None or stored.answer is None:
                # Claimed by a process that stopped before answering: the outcome is unknown,
                # so it is not tried again (a booking might otherwise be made twice).
                self.outcomes[path, "interrupted"] += 1
                return Answer(request_id, 503, _error("interrupted", "please check and retry"))
            self.outcomes[path, "from_record"] += 1
            return Answer(request_id, stored.status, json.loads(stored.answer))
        response = await local.post(path, json=item.get("body"))
        try:
            body = response.json()
        except ValueError:
            body = _error("internal", "the queue server gave no JSON answer")
        self.processed += 1
        self.outcomes[path, f"{response.status_code // 100}xx"] += 1
        await asyncio.to_thread(
            self._record.finish, request_id, response.status_code, json.dumps(body)
        )
        return Answer(request_id, response.status_code, body)

    async def _call(
        self, session: aiohttp.ClientSession, path: str, **fields: Any
    ) -> dict[str, Any]:
        """A signed call to the relay; its reply, checked to be signed and to answer this call."""
        nonce = secrets.token_urlsafe(18)
        body = encode_call(
            self._office_id,
            nonce,
            wait=fields.get("wait", 0.0),
            answers=fields.get("answers"),
            documents=fields.get("documents"),
        )
        stamp = f"{time.time():.3f}"
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(self._secret, stamp, body),
        }
        async with session.post(self._base + path, data=body, headers=headers) as response:
            data = await response.read()
            if response.status != 200:
                raise PullRefused(f"the relay answered {response.status}")
            try:
                verify(
                    (self._secret,),
                    response.headers.get(TIMESTAMP_HEADER),
                    response.headers.get(SIGNATURE_HEADER),
                    data,
                    time.time(),
                )
            except Exception as exc:
                raise PullRefused("the relay's reply is not signed with our secret") from exc
        reply = json.loads(data)
        if not isinstance(reply, dict) or reply.get("nonce") != nonce:
            raise PullRefused("the relay's reply does not answer this call")
        return reply


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
