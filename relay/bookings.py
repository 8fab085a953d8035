"""/reserve and notice subscriptions on the relay: slots from the pushed document, requests
queued for the queue server to pull (relay/pull_protocol.py), answers handed back to residents.

A resident's POST becomes a queued request; the relay waits `answer_wait_seconds` for the queue
server's answer and passes it on unchanged (status and body, so the page sees exactly what the
queue server says), or answers 202 with the request id and a URL to poll. When the queue server
has not pulled for `pull_stale_seconds`, bookings are unavailable (503 `bookings_unavailable`),
at once rather than after a wait. Request bodies are never logged.
"""

from __future__ import annotations

import json
import math
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from relay.protocol import (
    AVAILABILITY,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PushRefused,
    encode,
    sign,
    verify,
)
from relay.pull_protocol import REQUEST_ID, REQUEST_PATHS, parse_call
from relay.requests import Outcome, RequestsFull

if TYPE_CHECKING:
    from relay.app import Relay

MAX_REQUEST_BYTES = 8 * 1024
POLL_PATH = "/api/v1/relay-requests/"
_NO_STORE = {"Cache-Control": "no-store"}


def _error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}},
        status=status,
        headers={**_NO_STORE, **headers},
    )


def unavailable() -> web.Response:
    return _error(
        503,
        "bookings_unavailable",
        "bookings are temporarily unavailable; please try again later",
        **{"Retry-After": "30"},
    )


class AddressLimit:
    """Requests per client address in fixed windows (the queue server's rule, on the relay)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self._limit = limit
        self._window = window
        self._counts: dict[str, tuple[float, int]] = {}

    def take(self, address: str, now: float | None = None) -> float:
        """Count one request; 0 when allowed, else the seconds until the window ends."""
        now = time.monotonic() if now is None else now
        start, used = self._counts.get(address, (now, 0))
        if now - start >= self._window:
            start, used = now, 0
        if used >= self._limit:
            return self._window - (now - start)
        if len(self._counts) > 100_000:  # forget ended windows rather than grow without end
            self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self._window}
        self._counts[address] = (start, used + 1)
        return 0.0


def _relay(request: web.Request) -> Relay:
    relay: Relay = request.app["relay"]
    return relay


def address_of(request: web.Request) -> str:
    """The client address the rate limit counts (our proxy's X-Forwarded-For when trusted)."""
    if _relay(request).settings.trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.rsplit(",", 1)[-1].strip()  # the address our own proxy saw
    return request.remote or "unknown"


def _answer(outcome: Outcome, request_id: str) -> web.Response:
    if outcome.state == "done":
        return web.json_response(outcome.body, status=outcome.status, headers=_NO_STORE)
    if outcome.state == "pending":
        waiting = {"id": request_id, "poll_url": POLL_PATH + request_id, "retry_after": 1}
        return web.json_response(
            {"relay_request": waiting}, status=202, headers={**_NO_STORE, "Retry-After": "1"}
        )
    if outcome.state == "expired":
        return unavailable()
    return _error(404, "not_found", "no such request (answers are kept for a few minutes)")


async def submit(request: web.Request) -> web.Response:
    """A resident's booking, lookup, change, cancel, (un)subscribe: queued for the queue server."""
    relay = _relay(request)
    wait = relay.limiter.take(address_of(request))
    if wait > 0:
        seconds = str(math.ceil(wait))
        return _error(
            429,
            "rate_limited",
            f"too many requests from this address; try again in {seconds} s",
            **{"Retry-After": seconds},
        )
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return _error(413, "too_large", f"a request may hold {MAX_REQUEST_BYTES} bytes")
    body = await request.read()
    if len(body) > MAX_REQUEST_BYTES:
        return _error(413, "too_large", f"a request may hold {MAX_REQUEST_BYTES} bytes")
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(400, "malformed_json", "the request body is not valid JSON")
    if not await relay.bookings_open():
        return unavailable()
    try:
        request_id = await relay.requests.submit(request.path, payload)
        outcome = await relay.requests.wait_outcome(request_id, relay.settings.answer_wait_seconds)
    except RequestsFull:
        return _error(
            503, "busy", "too many requests are waiting; please try again", **{"Retry-After": "5"}
        )
    except relay.requests.errors:  # Redis away: not a trace, a 503
        return unavailable()
    return _answer(outcome, request_id)


async def poll(request: web.Request) -> web.Response:
    """`GET /api/v1/relay-requests/{id}`: the answer once it is there, 202 while it is not."""
    request_id = request.match_info["request_id"]
    if not REQUEST_ID.match(request_id):
        return _error(404, "not_found", "no such request")
    requests = _relay(request).requests
    try:
        outcome = await requests.outcome(request_id)
    except requests.errors:
        return unavailable()
    return _answer(outcome, request_id)


def _availability(request: web.Request) -> dict[str, Any] | None:
    relay = _relay(request)
    body = relay.state.documents.get(AVAILABILITY)
    if body is None:
        return None
    if relay.availability_cache[0] != body.etag:
        relay.availability_cache = (body.etag, json.loads(body.data))
    found: dict[str, Any] = relay.availability_cache[1]
    return found


async def procedures(request: web.Request) -> web.Response:
    document = _availability(request)
    if document is None or not await _relay(request).bookings_open():
        return unavailable()
    return web.json_response({"procedures": document["procedures"]}, headers=_NO_STORE)


async def days(request: web.Request) -> web.Response:
    document, category_id = _availability(request), request.match_info["category_id"]
    if document is None or not await _relay(request).bookings_open():
        return unavailable()
    if category_id not in document["days"]:
        return _error(404, "not_found", "no such reservable procedure")
    answer = {"category_id": category_id, "days": document["days"][category_id]}
    return web.json_response(answer, headers=_NO_STORE)


async def slots(request: web.Request) -> web.Response:
    document, category_id = _availability(request), request.match_info["category_id"]
    day = request.query.get("date", "")
    if document is None or not await _relay(request).bookings_open():
        return unavailable()
    if category_id not in document["slots"]:
        return _error(404, "not_found", "no such reservable procedure")
    answer = {
        "category_id": category_id,
        "date": day,
        "slots": document["slots"][category_id].get(day, []),
    }
    return web.json_response(answer, headers=_NO_STORE)


async def vapid_public_key(request: web.Request) -> web.Response:
    body = _relay(request).state.documents.get("/api/v1/notify/vapid-public-key")
    key = json.loads(body.data).get("key") if body is not None else None
    if not key:
        return _error(404, "not_found", "this server does not send Web Push")
    return web.json_response({"key": key}, headers=_NO_STORE)


async def _call(request: web.Request, handle: Any) -> web.Response:
    """Verify a signed call of the queue server, run it, and sign the reply."""
    relay = _relay(request)
    body = await request.read()
    try:
        secret = verify(
            relay.settings.secrets,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
            time.time(),
        )
        call = parse_call(body)
        if call.office_id != relay.settings.office_id:
            raise PushRefused(403, "wrong_office", "this relay serves another office")
        if not await relay.requests.first_use(call.nonce):
            raise PushRefused(409, "replayed", "this call was already received")
    except PushRefused as refused:
        return _error(refused.status, refused.code, refused.message)
    await relay.requests.mark_pulled()
    if call.documents:
        # Shared with the other relays like any push (it continues no events).
        push = encode(
            call.office_id, relay.state.seq, time.time(), snapshot=False, documents=call.documents
        )
        await relay.apply(push, share=True)
    reply = json.dumps({"nonce": call.nonce, **await handle(relay, call)}, ensure_ascii=False)
    data = reply.encode("utf-8")
    stamp = f"{time.time():.3f}"
    headers = {**_NO_STORE, TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, data)}
    return web.Response(body=data, content_type="application/json", headers=headers)


async def pull(request: web.Request) -> web.Response:
    """`POST /pull`: the queue server's long poll for residents' requests."""

    async def handle(relay: Relay, call: Any) -> dict[str, Any]:
        transport = request.transport
        found = await relay.requests.lease(
            call.max,
            call.wait,
            # A puller that hung up (it restarted) must not be handed requests it never reads.
            gone=lambda: transport is None or transport.is_closing(),
        )
        return {"requests": [r for r in found if r["path"] in REQUEST_PATHS]}

    return await _call(request, handle)


async def answer(request: web.Request) -> web.Response:
    """`POST /answer`: the queue server's answers to requests it pulled."""

    async def handle(relay: Relay, call: Any) -> dict[str, Any]:
        for item in call.answers:
            await relay.requests.answer(item)
        return {"stored": len(call.answers)}

    return await _call(request, handle)


def add_routes(app: web.Application) -> None:
    """The booking and notice URLs of the queue server, and the queue server's pull."""
    app.router.add_post("/pull", pull)
    app.router.add_post("/answer", answer)
    for path in sorted(REQUEST_PATHS):
        app.router.add_post(path, submit)
    app.router.add_get(POLL_PATH + "{request_id}", poll)
    app.router.add_get("/api/v1/reserve/procedures", procedures)
    app.router.add_get("/api/v1/reserve/procedures/{category_id}/days", days)
    app.router.add_get("/api/v1/reserve/procedures/{category_id}/slots", slots)
    app.router.add_get("/api/v1/notify/vapid-public-key", vapid_public_key)
